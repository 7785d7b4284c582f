/**
 * The coachwire SDK's entry point. The SDK itself lives in protocol/sdk/ (see its README.md):
 * the per-room stream, the connection, retries and token refresh, each in its own module.
 */
export { CoachClient } from "./sdk/coach-client.ts";
export type { CoachClientOptions } from "./sdk/client-options.ts";
export { randomId } from "./sdk/random-id.ts";
export { RequestError } from "./sdk/requests.ts";
export { login, type Tokens } from "./sdk/tokens.ts";
