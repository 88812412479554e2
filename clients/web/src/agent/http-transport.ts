// The agent over the HTTP API (`POST /v1/sessions/{id}/events`, `…/runs/{runId}/heartbeat`,
// `…/runs/{runId}/ack`). There is no socket: the control of a run comes in the answer to every
// append and heartbeat of that run (refusals included), and is repeated until acknowledged.
import type { AgentTransport, ControlSink, Outcome } from './transport.js';
import { refusedFrom } from './transport.js';

export interface HttpTransportOptions {
  /** The API's root, e.g. `http://127.0.0.1:8787`; paths start with `/v1` below it. */
  baseUrl: string;
  sessionId: string;
  /** Asked on every request (tokens expire); empty sends no `Authorization`. */
  bearerToken: () => string | null | undefined | Promise<string | null | undefined>;
  /** More headers for every request (e.g. a signature), given the method, URL and body. */
  headers?: (request: { method: string; url: string; body: string }) => Record<string, string> | Promise<Record<string, string>>;
  fetch: typeof fetch;
  requestTimeoutMs: number;
  sink: ControlSink;
}

export class HttpAgentTransport implements AgentTransport {
  private readonly sessionPath: string;
  private closed = false;

  constructor(private readonly o: HttpTransportOptions) {
    this.sessionPath = `${o.baseUrl.replace(/\/+$/, '')}/v1/sessions/${encodeURIComponent(o.sessionId)}`;
  }

  async start(): Promise<void> {
    // nothing to open: the first request shows whether the URL and the token work
  }

  append(append: Record<string, unknown>): Promise<Outcome> {
    return this.post('/events', append);
  }

  heartbeat(runId: string): Promise<Outcome> {
    return this.post(`/runs/${encodeURIComponent(runId)}/heartbeat`, null);
  }

  acknowledge(runId: string, controlSeq: number): void {
    if (this.closed) return;
    // not retried here: a lost acknowledgement shows as control repeated in a later answer, and the
    // agent acknowledges it again then
    void this.post(`/runs/${encodeURIComponent(runId)}/ack`, { controlSeq }).catch(() => {});
  }

  maintain(): void {}

  drop(): void {}

  close(): void {
    this.closed = true;
  }

  private async post(path: string, body: unknown): Promise<Outcome> {
    const url = this.sessionPath + path;
    const text = body == null ? '' : JSON.stringify(body);
    let response: Response;
    let answer: any = {};
    try {
      const headers: Record<string, string> = {
        'Content-Type': 'application/json', Accept: 'application/json, application/problem+json',
      };
      const token = await this.o.bearerToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      if (this.o.headers) Object.assign(headers, await this.o.headers({ method: 'POST', url, body: text }));
      response = await this.o.fetch(url, { method: 'POST', headers, body: text,
                                           signal: AbortSignal.timeout(this.o.requestTimeoutMs) });
      const raw = await response.text();
      try { answer = raw ? JSON.parse(raw) : {}; } catch { answer = {}; } // e.g. a proxy's HTML page: the status decides
    } catch (e) {
      return { kind: 'lost', reason: (e as Error).message };
    }
    for (const e of Array.isArray(answer?.control) ? answer.control : []) this.o.sink(e);
    return outcome(response.status, response.headers.get('Retry-After'), answer);
  }
}

/**
 * The outcome of a status and body: the problem's `code` when there is one; otherwise what API
 * Gateway itself answers — 401/403 `{"message":…}` for a token it refused — is `UNAUTHORIZED`,
 * 429 is `RATE_LIMITED` and 5xx is `INTERNAL` (both retried).
 */
export function outcome(status: number, retryAfter: string | null, body: any): Outcome {
  if (status >= 200 && status < 300) {
    return { kind: 'acked', firstSeq: body?.firstSeq ?? 0, lastSeq: body?.lastSeq ?? 0, duplicate: !!body?.duplicate };
  }
  let code: string = typeof body?.code === 'string' ? body.code : '';
  if (!code) {
    code = status === 401 || status === 403 ? 'UNAUTHORIZED' : status === 413 ? 'MESSAGE_TOO_LARGE'
      : status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'INTERNAL' : `HTTP_${status}`;
  }
  const seconds = Number(retryAfter);
  return refusedFrom(code, body?.detail ?? body?.message ?? `HTTP ${status}`, body?.details,
                     Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0);
}
