/**
 * Moved to lib/deployment.ts (#21). This re-export keeps test/fork compiling until the sim helper, who
 * owns test/fork, imports lib/deployment directly; then delete it.
 */
export * from "../../lib/deployment";
