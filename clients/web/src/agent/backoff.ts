/** Exponential backoff with jitter: a random delay in [initial/2, min(max, initial·2^attempt)]. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 10000 };

export function backoffDelay(b: Backoff, attempt: number): number {
  const cap = b.initialMs * 2 ** Math.min(attempt, 20);
  const upper = Math.min(b.maxMs, Math.max(cap, b.initialMs));
  const lower = Math.max(1, Math.floor(b.initialMs / 2));
  return lower >= upper ? upper : lower + Math.floor(Math.random() * (upper - lower + 1));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
