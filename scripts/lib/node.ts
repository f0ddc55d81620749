/**
 * Moved to lib/devnode.ts (#21). This re-export keeps test/fork compiling until the sim helper,
 * who owns test/fork, imports lib/devnode directly; then delete it.
 */
export * from "../../lib/devnode";
