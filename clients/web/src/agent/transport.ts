// What the agent needs from a transport (WebSocket or HTTP API), as the Java SDK's AgentTransport.

/** The append was written (or was a duplicate of one that was). */
export interface Acked { kind: 'acked'; firstSeq: number; lastSeq: number; duplicate: boolean }
/** The service answered and refused: nothing was written. */
export interface Refused { kind: 'refused'; code: string; message: string; details: Record<string, any>; retryAfterMs: number }
/** No answer (timeout, lost connection or response): it may or may not have been written. */
export interface Lost { kind: 'lost'; reason: string }
export type Outcome = Acked | Refused | Lost;

/** Receives control events (at least once, in seq order per run). */
export type ControlSink = (event: any) => void;

export interface AgentTransport {
  start(): Promise<void>;
  /** One append: `{events, runId?, producer}`. */
  append(append: Record<string, unknown>): Promise<Outcome>;
  heartbeat(runId: string): Promise<Outcome>;
  /** Tells the service the control events up to `controlSeq` were obeyed (HTTP; a no-op on the WebSocket). */
  acknowledge(runId: string, controlSeq: number): void;
  /** Periodic upkeep (replace an old connection). */
  maintain(): void;
  /** Cuts the connection as a network failure would (tests). */
  drop(): void;
  close(): void;
}

export function refusedFrom(code: string, message: string, details: any, retryAfterMs = 0): Refused {
  return { kind: 'refused', code, message, details: details && typeof details === 'object' ? details : {},
           retryAfterMs: Math.max(retryAfterMs, Number(details?.retryAfterMs) || 0) };
}
