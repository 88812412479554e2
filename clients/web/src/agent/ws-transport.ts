// The agent over the API Gateway WebSocket: one connection, reopened with backoff whenever it is
// lost, with a `controlOnly` subscription that brings the control events (resumed from the last
// seq seen after every reconnect).
import type { WebSocketConstructor } from '../session.js';
import { type Backoff, backoffDelay, sleep } from './backoff.js';
import type { AgentTransport, ControlSink, Outcome } from './transport.js';
import { refusedFrom } from './transport.js';

export interface WsTransportOptions {
  url: string;
  sessionId: string;
  connectQuery: () => string | Promise<string>;
  protocols?: () => string[] | Promise<string[]>;
  WebSocket: WebSocketConstructor;
  requestTimeoutMs: number;
  maxConnectionAgeMs: number;
  backoff: Backoff;
  sink: ControlSink;
  log: (message: string) => void;
  /** Fault injection for tests: inbound frames for which this returns false are dropped as if lost. */
  deliver?: (frame: any) => boolean;
}

interface Conn {
  ws: any;
  open: boolean;
  opened: number;
  pending: Map<string, (frame: any) => void>;
}

let requests = 0;

export class WsAgentTransport implements AgentTransport {
  private conn: Conn | null = null;
  private connecting: Promise<Conn | null> | null = null;
  /** The control subscription's resume point; -1: not subscribed (the session may not exist yet). */
  private cursor = -1;
  private closed = false;

  constructor(private readonly o: WsTransportOptions) {}

  async start(): Promise<void> {
    await this.ensureConnected();
  }

  async append(append: Record<string, unknown>): Promise<Outcome> {
    const c = await this.ensureConnected();
    if (!c) return { kind: 'lost', reason: 'closed' };
    let answer;
    try {
      answer = await this.request(c, { action: 'append', sessionId: this.o.sessionId, ...append });
    } catch (e) {
      return { kind: 'lost', reason: (e as Error).message };
    }
    const o = outcome(answer);
    if (o.kind === 'acked' && o.firstSeq > 0 && this.cursor < 0) {
      // the session exists from our first write on: subscribe to its control from there
      this.cursor = o.firstSeq - 1;
      this.subscribeControl(c);
    }
    return o;
  }

  async heartbeat(runId: string): Promise<Outcome> {
    const c = this.conn;
    if (!c || !c.open) return { kind: 'lost', reason: 'not connected' };
    try {
      return outcome(await this.request(c, { action: 'heartbeat', sessionId: this.o.sessionId, runId }));
    } catch (e) {
      return { kind: 'lost', reason: (e as Error).message };
    }
  }

  acknowledge(): void {
    // nothing to do: the subscription resumes after the last seq seen, so control is not sent twice
  }

  maintain(): void {
    const c = this.conn;
    if (c && c.open && Date.now() - c.opened >= this.o.maxConnectionAgeMs) {
      this.closeSocket(c, 1000, 'replaced'); // before API Gateway does; the next append or the reconnect resumes
    }
  }

  drop(): void {
    const c = this.conn;
    if (c) this.closeSocket(c, 4000, 'dropped');
  }

  close(): void {
    this.closed = true;
    const c = this.conn;
    this.conn = null;
    if (c) this.closeSocket(c, 1000, 'bye');
  }

  private closeSocket(c: Conn, code: number, reason: string): void {
    this.onClosed(c);
    try { c.ws.close(code, reason); } catch { /* already gone */ }
  }

  /** The open connection, (re)connecting with backoff as long as it takes; null once closed. */
  private ensureConnected(): Promise<Conn | null> {
    if (this.conn?.open) return Promise.resolve(this.conn);
    if (!this.connecting) {
      this.connecting = this.connectLoop().finally(() => { this.connecting = null; });
    }
    return this.connecting;
  }

  private async connectLoop(): Promise<Conn | null> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const c = await this.open();
        if (this.closed) { try { c.ws.close(); } catch { /* gone */ } return null; }
        this.conn = c;
        if (this.cursor >= 0) this.subscribeControl(c);
        return c;
      } catch (e) {
        if (attempt === 3) this.o.log(`cannot connect, retrying: ${(e as Error).message}`);
        await sleep(backoffDelay(this.o.backoff, attempt));
      }
    }
    return null;
  }

  private async open(): Promise<Conn> {
    const q = await this.o.connectQuery();
    const query = q ? (q.startsWith('?') ? q.slice(1) : q) : '';
    const url = query ? `${this.o.url}${this.o.url.includes('?') ? '&' : '?'}${query}` : this.o.url;
    const protocols = this.o.protocols ? await this.o.protocols() : undefined;
    const ws = protocols ? new this.o.WebSocket(url, protocols) : new this.o.WebSocket(url);
    const c: Conn = { ws, open: false, opened: Date.now(), pending: new Map() };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('connect timeout')); try { ws.close(); } catch { /* gone */ } }, 10000);
      ws.onopen = () => { clearTimeout(timer); c.open = true; resolve(); };
      ws.onerror = () => {};
      ws.onclose = (ev: any) => { clearTimeout(timer); reject(new Error(`closed before open (${ev?.code ?? '?'})`)); };
    });
    ws.onmessage = (m: any) => {
      let f;
      try { f = JSON.parse(typeof m.data === 'string' ? m.data : String(m.data)); } catch { return; }
      this.onFrame(c, f);
    };
    ws.onclose = () => this.onClosed(c);
    return c;
  }

  private onClosed(c: Conn): void {
    if (!c.open) return;
    c.open = false;
    for (const resolve of c.pending.values()) resolve({ type: 'lost' });
    c.pending.clear();
    if (this.conn === c) this.conn = null;
    if (this.closed) return;
    // reconnect in the background so control events keep coming while no append is pending
    setTimeout(() => { if (!this.closed && !this.conn) void this.ensureConnected(); }, backoffDelay(this.o.backoff, 0));
  }

  private request(c: Conn, frame: Record<string, unknown>): Promise<any> {
    const requestId = `a${++requests}`;
    return new Promise((resolve, reject) => {
      if (!c.open) { reject(new Error('not connected')); return; }
      const timer = setTimeout(() => { c.pending.delete(requestId); reject(new Error('timeout')); }, this.o.requestTimeoutMs);
      c.pending.set(requestId, (f) => {
        clearTimeout(timer);
        if (f.type === 'lost') reject(new Error('connection lost'));
        else resolve(f);
      });
      try {
        c.ws.send(JSON.stringify({ ...frame, requestId }));
      } catch (e) {
        clearTimeout(timer);
        c.pending.delete(requestId);
        reject(e as Error);
      }
    });
  }

  private subscribeControl(c: Conn): void {
    this.request(c, { action: 'subscribe', sessionId: this.o.sessionId, controlOnly: true, afterSeq: this.cursor })
      .then((a) => {
        if (this.closed) return;
        if (a.type === 'subscribed') {
          this.cursor = Math.max(this.cursor, a.headSeq ?? 0);
          if (a.complete === false) this.subscribeControl(c);
        } else {
          setTimeout(() => { if (c.open) this.subscribeControl(c); }, backoffDelay(this.o.backoff, 1));
        }
      })
      .catch(() => { /* a lost connection subscribes again on reconnect */ });
  }

  private onFrame(c: Conn, f: any): void {
    if (this.o.deliver && !this.o.deliver(f)) return;
    if (f.requestId && c.pending.has(f.requestId) && f.type !== 'events') {
      const resolve = c.pending.get(f.requestId)!;
      c.pending.delete(f.requestId);
      resolve(f);
      return;
    }
    if (f.type !== 'events') return;
    for (const e of f.events ?? []) {
      if (typeof e?.seq === 'number') this.cursor = Math.max(this.cursor, e.seq);
      this.o.sink(e);
    }
  }
}

function outcome(answer: any): Outcome {
  if (answer?.type === 'ack') {
    return { kind: 'acked', firstSeq: answer.firstSeq ?? 0, lastSeq: answer.lastSeq ?? 0, duplicate: !!answer.duplicate };
  }
  return refusedFrom(answer?.code ?? 'UNKNOWN', answer?.message ?? '', answer?.details);
}
