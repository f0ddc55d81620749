/**
 * Moved to lib/client.ts (#21). This re-export keeps test/fork compiling until the sim helper, who
 * owns test/fork, imports lib/client directly; then delete it.
 */
export * from "../../lib/client";
