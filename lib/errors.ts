/**
 * User-facing errors: `BulwarkError` (a user mistake, a missing deployment, a decoded revert:
 * printed as one line without a stack trace).
 */

/** A user mistake or a missing deployment: printed as one line, without a stack trace. */
export class BulwarkError extends Error {
  override name = "BulwarkError";
}
