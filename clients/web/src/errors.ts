// What a client does about each wire error code (docs/protocol.md §5), the same table as the Java
// ErrorCode; test/unit/error-codes.test.js checks it against fixtures/error-codes.json, generated from it.

/** retry: transient, nothing written, send the same request again after a backoff; refresh_token: get a new
 * token; fenced: stop writing what was fenced; fatal: sent again, it is refused again. */
export type Recovery = 'retry' | 'refresh_token' | 'fenced' | 'fatal';

/** Every code of this protocol version with its HTTP status and recovery. */
export const ERROR_CODES: Readonly<Record<string, { readonly httpStatus: number; readonly recovery: Recovery }>> = Object.freeze({
  MALFORMED_JSON: { httpStatus: 400, recovery: 'fatal' },
  UNKNOWN_ACTION: { httpStatus: 404, recovery: 'fatal' },
  INVALID_MESSAGE: { httpStatus: 400, recovery: 'fatal' },
  UNKNOWN_EVENT_TYPE: { httpStatus: 400, recovery: 'fatal' },
  FORBIDDEN_EVENT_TYPE: { httpStatus: 400, recovery: 'fatal' },
  EVENT_TOO_LARGE: { httpStatus: 413, recovery: 'fatal' },
  MESSAGE_TOO_LARGE: { httpStatus: 413, recovery: 'fatal' },
  TOO_MANY_EVENTS: { httpStatus: 413, recovery: 'fatal' },
  PRODUCER_GAP: { httpStatus: 409, recovery: 'fatal' },
  STALE_EPOCH: { httpStatus: 409, recovery: 'fenced' },
  RUN_NOT_FOUND: { httpStatus: 404, recovery: 'fatal' },
  RUN_EXISTS: { httpStatus: 409, recovery: 'fatal' },
  RUN_FENCED: { httpStatus: 409, recovery: 'fenced' },
  MESSAGE_FENCED: { httpStatus: 409, recovery: 'fenced' },
  NOT_OWNER: { httpStatus: 403, recovery: 'fatal' },
  INVALID_TRANSITION: { httpStatus: 409, recovery: 'fatal' },
  SESSION_NOT_FOUND: { httpStatus: 404, recovery: 'fatal' },
  CONTENTION: { httpStatus: 409, recovery: 'retry' },
  UNAUTHORIZED: { httpStatus: 401, recovery: 'refresh_token' },
  FORBIDDEN: { httpStatus: 403, recovery: 'fatal' },
  RATE_LIMITED: { httpStatus: 429, recovery: 'retry' },
  INTERNAL: { httpStatus: 500, recovery: 'retry' },
});

/** Whether sending the same request again (the same producer seq) may succeed. Unknown codes are final. */
export function isRetryable(code: string | undefined): boolean {
  return code !== undefined && Object.hasOwn(ERROR_CODES, code) && ERROR_CODES[code].recovery === 'retry';
}
