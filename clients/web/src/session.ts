// One session, read and written from a browser tab (or any JavaScript runtime with a WebSocket).
//
// Guarantees (docs/protocol.md §7): every event is applied exactly once and in seq order across
// reconnects, reloads (a tab keeps `last` and the assembled state in sessionStorage) and gaps; a
// new tab hydrates the assembled state, then tails live.
import { Assembler } from './assembler.js';
import { ClientRule } from './client-rule.js';
import { isRetryable } from './errors.js';
import { joinSnapshot, type SnapshotFrame } from './snapshot.js';
import type { EventInput, RunView, SessionEvent, SessionState } from './types.js';
import { FENCED_STATES } from './types.js';

const SERVICE_ANSWERS = new Set(['ack', 'error', 'subscribed', 'pong', 'unsubscribed']);
const FATAL_SUBSCRIBE = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'INVALID_MESSAGE', 'MALFORMED_JSON', 'UNKNOWN_ACTION']);

/** A random id with a prefix, in the protocol's id alphabet. */
export function randomId(prefix = ''): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether a string is a valid protocol id (1–128 chars of A–Z a–z 0–9 . _ : -). */
export function isValidId(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(s);
}

type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** A stable id for this tab: survives reloads, differs between tabs (sessionStorage is per tab). */
export function tabInstanceId(storage: StorageLike | null | undefined = (globalThis as any).sessionStorage): string {
  let id = storage?.getItem('ds.instance');
  if (!id) {
    id = randomId('tab-');
    storage?.setItem('ds.instance', id);
  }
  return id;
}

/** An `error` frame of the service, as thrown by writes it refused. */
export class DurableSessionError extends Error {
  constructor(readonly code: string, message: string, readonly frame?: any) {
    super(`${code}: ${message}`);
    this.name = 'DurableSessionError';
  }
}

export interface ConnectionStatus {
  connected: boolean;
  reconnecting: boolean;
  attempt: number;
}

export interface ReplyEnd {
  messageId: string;
  runId: string | null;
  reason: string;
  stoppedAtSeq: number | null;
}

export interface DurableSessionEvents {
  /** Each event, once, in seq order (the assembled state already includes it). */
  event: SessionEvent;
  /** The assembled state changed (throttled to animation frames). */
  state: SessionState;
  /** A hydrate finished (or a saved state was restored). */
  snapshot: SessionState;
  status: ConnectionStatus;
  /** A reply will not stream any more: `message.end`, an interrupt, or its run was fenced. */
  replyEnd: ReplyEnd;
  /** A run changed state. */
  run: RunView;
  /** The session was erased: the object closed itself and forgot the session; it will not resume it. */
  deleted: { sessionId: string };
  /** A refusal or failure; one that ends the session for good (UNAUTHORIZED, FORBIDDEN…) comes after `isClosed` is set. */
  error: any;
}

type WebSocketLike = {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((m: { data: any }) => void) | null;
  onclose: ((e?: any) => void) | null;
  onerror: ((e?: any) => void) | null;
  onopen: ((e?: any) => void) | null;
  addEventListener?(type: string, fn: (e?: any) => void, opts?: any): void;
};
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface DurableSessionOptions {
  /** The WebSocket URL, e.g. `ws://127.0.0.1:8787/local`. */
  url: string;
  sessionId: string;
  /** The `$connect` query for every (re)connect, e.g. `token=…&instance=…` (not for browser tokens). */
  connectQuery?: (ctx: { instance: string; sessionId: string }) => string | Promise<string>;
  /** Subprotocols for every (re)connect: browsers pass the token as `['durable-sessions', 'token.<jwt>']`. */
  protocols?: ((ctx: { instance: string }) => string[] | Promise<string[]>) | null;
  /** Where the tab keeps its instance id, `last` and state (default sessionStorage; null: nowhere). */
  storage?: StorageLike | null;
  /** The WebSocket class (default the global one; in Node < 22 pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
  /** This client's instance id for presence (default: per tab, kept in storage). */
  instance?: string;
  gapTimeoutMs?: number;
  maxConnectionAgeMs?: number;
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Keep `last` and the state in storage so a reload resumes (default true). */
  persist?: boolean;
}

interface Conn {
  ws: WebSocketLike;
  ready: boolean;
  opened: number;
  pending: Map<string, { resolve: (f: any) => void; reject: (e: Error) => void }>;
  dead: boolean;
  lastSent?: number;
  snapshot?: SnapshotFrame[] | null;
  hydrateId?: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One session, read and written by one client. `start()` connects (hydrating or resuming), then
 * applies the client rule; `on(name, fn)` listens ({@link DurableSessionEvents}); `append`,
 * `sendUserMessage`, `stop`, `steer`, `interrupt` write.
 */
export class DurableSession {
  readonly url: string;
  readonly sessionId: string;
  readonly instance: string;
  readonly stats = { duplicates: 0, connects: 0, resubscribes: 0 };
  assembler = new Assembler();

  private readonly connectQuery: NonNullable<DurableSessionOptions['connectQuery']>;
  private readonly protocols: DurableSessionOptions['protocols'];
  private readonly storage: StorageLike | null;
  private readonly WS: WebSocketConstructor;
  private readonly opts: Required<Pick<DurableSessionOptions, 'gapTimeoutMs' | 'maxConnectionAgeMs' | 'pingIntervalMs'
    | 'requestTimeoutMs' | 'backoff' | 'persist'>>;
  private readonly listeners = new Map<string, Set<(v: any) => void>>();
  private rule = new ClientRule(0);
  private synced = false;
  private gapSince = 0;
  private current: Conn | null = null;
  private replacement: Conn | null = null;
  private attempt = 0;
  private closed = false;
  private requests = 0;
  private readonly ended = new Set<string>();
  private readonly producer: { id: string; epoch: number; seq: number };
  private appendChain: Promise<unknown> = Promise.resolve();
  private timer?: ReturnType<typeof setInterval>;
  private reconnectTimer?: ReturnType<typeof setTimeout> | null;
  private saveTimer?: ReturnType<typeof setTimeout> | null;
  private pendingRender = false;
  private onHide?: () => void;

  constructor(o: DurableSessionOptions) {
    this.url = o.url;
    this.sessionId = o.sessionId;
    this.connectQuery = o.connectQuery ?? (() => '');
    this.protocols = o.protocols ?? null;
    this.storage = o.storage === undefined ? ((globalThis as any).sessionStorage ?? null) : o.storage;
    const WS = o.WebSocket ?? (globalThis as any).WebSocket;
    if (!WS) throw new Error('no WebSocket in this runtime: pass options.WebSocket (e.g. the ws package\'s)');
    this.WS = WS;
    this.instance = o.instance ?? tabInstanceId(this.storage);
    this.opts = {
      gapTimeoutMs: o.gapTimeoutMs ?? 2000, maxConnectionAgeMs: o.maxConnectionAgeMs ?? 110 * 60 * 1000,
      pingIntervalMs: o.pingIntervalMs ?? 5 * 60 * 1000, requestTimeoutMs: o.requestTimeoutMs ?? 10000,
      backoff: o.backoff ?? { initialMs: 200, maxMs: 10000 }, persist: o.persist ?? true,
    };
    this.producer = { id: this.instance, epoch: Date.now(), seq: 0 };
    this.restore();
  }

  on<K extends keyof DurableSessionEvents>(name: K, fn: (value: DurableSessionEvents[K]) => void): () => void {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name)!.add(fn);
    return () => { this.listeners.get(name)?.delete(fn); };
  }

  private emit<K extends keyof DurableSessionEvents>(name: K, value: DurableSessionEvents[K]): void {
    for (const fn of this.listeners.get(name) ?? []) {
      try { fn(value); } catch (e) { console.error(e); }
    }
  }

  get state(): SessionState { return this.assembler.state(); }
  get lastSeq(): number { return this.rule.last; }
  get connected(): boolean { return !!this.current && this.current.ready; }
  /** True once the state is hydrated (or restored) and the live tail applies. */
  get isSynced(): boolean { return this.synced; }
  get isClosed(): boolean { return this.closed; }

  start(): this {
    void this.connect();
    this.timer = setInterval(() => void this.tick(), 200);
    this.onHide = () => this.save();
    (globalThis as any).addEventListener?.('pagehide', this.onHide);
    return this;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    (globalThis as any).removeEventListener?.('pagehide', this.onHide);
    this.save();
    for (const c of [this.current, this.replacement]) if (c) { c.dead = true; try { c.ws.close(1000, 'bye'); } catch { /* gone */ } }
    this.current = this.replacement = null;
  }

  // ---------------------------------------------------------------- persistence (per tab)

  private storageKey(): string { return `ds.session.${this.sessionId}`; }

  private restore(): void {
    if (!this.opts.persist || !this.storage) return;
    try {
      const saved = JSON.parse(this.storage.getItem(this.storageKey()) ?? 'null');
      if (saved && saved.last > 0 && saved.state) {
        this.assembler = new Assembler(saved.state);
        this.rule = new ClientRule(saved.last);
        this.synced = true;
        for (const id of saved.ended ?? []) this.ended.add(id);
      }
    } catch { /* a broken entry: hydrate instead */ }
  }

  /** Drops everything held of the session, here and in storage (it was erased on the server). */
  private forget(): void {
    try { this.storage?.removeItem(this.storageKey()); } catch { /* storage unavailable */ }
    this.assembler = new Assembler();
    this.rule = new ClientRule(0);
    this.synced = false;
    this.ended.clear();
    // our producer's rows went with the session: appends begin again in a new epoch at seq 0
    this.producer.epoch = Math.max(Date.now(), this.producer.epoch + 1);
    this.producer.seq = 0;
  }

  private save(): void {
    if (!this.opts.persist || !this.storage || !this.synced) return;
    try {
      this.storage.setItem(this.storageKey(), JSON.stringify({
        last: this.rule.last, state: this.assembler.state(), ended: [...this.ended].slice(-200) }));
    } catch { /* quota: resume falls back to a hydrate */ }
  }

  // ----------------------------------------------------------------------- connections

  private async openSocket(): Promise<Conn> {
    const q = await this.connectQuery({ instance: this.instance, sessionId: this.sessionId });
    const query = q ? (q.startsWith('?') ? q.slice(1) : q) : '';
    const url = query ? `${this.url}${this.url.includes('?') ? '&' : '?'}${query}` : this.url;
    const protocols = this.protocols ? await this.protocols({ instance: this.instance }) : undefined;
    const ws = protocols ? new this.WS(url, protocols) : new this.WS(url);
    const conn: Conn = { ws, ready: false, opened: Date.now(), pending: new Map(), dead: false };
    ws.onmessage = (m) => {
      if (conn.dead) return;
      let f;
      try { f = JSON.parse(typeof m.data === 'string' ? m.data : String(m.data)); } catch { return; }
      this.onFrame(conn, f);
    };
    ws.onerror = () => {};
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => { conn.ready = true; resolve(); };
      ws.onclose = () => { reject(new Error('closed before open')); this.onClosed(conn); };
    });
    ws.onclose = () => this.onClosed(conn);
    return conn;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.emit('status', { connected: false, reconnecting: this.attempt > 0, attempt: this.attempt });
    try {
      const conn = await this.openSocket();
      if (this.closed) { conn.ws.close(); return; }
      this.current = conn;
      void this.subscribe(conn);
    } catch {
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const { initialMs, maxMs } = this.opts.backoff;
    const cap = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 16));
    const delay = initialMs / 2 + Math.random() * Math.max(0, cap - initialMs / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => { this.reconnectTimer = null; void this.connect(); }, delay);
  }

  private onClosed(conn: Conn): void {
    if (conn.dead) return;
    conn.dead = true;
    conn.ready = false;
    for (const p of conn.pending.values()) p.reject(new Error('connection lost'));
    conn.pending.clear();
    if (this.closed) return;
    if (conn === this.replacement) { this.replacement = null; return; }
    if (conn === this.current) {
      this.current = null;
      if (this.replacement && this.replacement.ready) {
        this.current = this.replacement;
        this.replacement = null;
        return;
      }
      this.emit('status', { connected: false, reconnecting: true, attempt: this.attempt });
      this.scheduleReconnect();
    }
  }

  /** Cuts the connection as a network failure would (tests, or "reconnect now"). */
  dropConnection(): void {
    const c = this.current;
    if (!c) return;
    this.onClosed(c); // from now on nothing of this socket is read
    try { c.ws.close(4000, 'dropped by the client'); } catch { /* already gone */ }
  }

  private request(conn: Conn | null, frame: Record<string, unknown>, timeoutMs = this.opts.requestTimeoutMs): Promise<any> {
    const requestId = `w${++this.requests}`;
    frame.requestId = requestId;
    return new Promise((resolve, reject) => {
      if (!conn || conn.dead || !conn.ready) { reject(new Error('not connected')); return; }
      const t = setTimeout(() => { conn.pending.delete(requestId); reject(new Error('timeout')); }, timeoutMs);
      conn.pending.set(requestId, {
        resolve: (f) => { clearTimeout(t); resolve(f); },
        reject: (e) => { clearTimeout(t); reject(e); },
      });
      try {
        conn.ws.send(JSON.stringify(frame));
        conn.lastSent = Date.now();
      } catch (e) {
        conn.pending.delete(requestId);
        clearTimeout(t);
        reject(e as Error);
      }
    });
  }

  private async subscribe(conn: Conn): Promise<void> {
    if (this.closed || conn.dead) return;
    const frame: Record<string, unknown> = { action: 'subscribe', sessionId: this.sessionId };
    const hydrate = !this.synced;
    if (hydrate) { frame.hydrate = true; this.rule.clearHeld(); conn.snapshot = []; }
    else frame.afterSeq = this.rule.last;
    this.stats.resubscribes++;
    let answer;
    try {
      const p = this.request(conn, frame, 30000);
      conn.hydrateId = hydrate ? (frame.requestId as string) : null;
      answer = await p;
    } catch (e) {
      if ((e as Error).message === 'timeout' && !conn.dead) this.dropSocket(conn);
      return;
    }
    if (answer.type === 'error') {
      if (!hydrate && answer.code === 'INVALID_MESSAGE' && typeof answer.details?.headSeq === 'number') {
        // [subscribe.beyond-head] we hold more than the session has: it was erased (and perhaps begun
        // again) since we last saw it. Drop what we hold and hydrate what it holds now.
        this.forget();
        this.emit('error', answer);
        this.changed();
        void this.subscribe(conn);
        return;
      }
      // a refusal for good closes the session first: a listener of the error sees isClosed
      if (FATAL_SUBSCRIBE.has(answer.code)) { this.close(); this.emit('error', answer); return; }
      this.emit('error', answer);
      const { initialMs, maxMs } = this.opts.backoff;
      const wait = Math.max(answer.details?.retryAfterMs ?? 0, Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt++, 16)));
      setTimeout(() => void this.subscribe(conn), wait);
      return;
    }
    if (answer.complete === false || !this.synced) { void this.subscribe(conn); return; }
    this.attempt = 0;
    this.stats.connects++;
    if (conn === this.replacement) {
      const old = this.current;
      this.current = conn;
      this.replacement = null;
      if (old) { old.dead = true; old.ws.close(1000, 'replaced'); }
    }
    this.emit('status', { connected: true, reconnecting: false, attempt: 0 });
  }

  private dropSocket(conn: Conn): void {
    this.onClosed(conn);
    try { conn.ws.close(4001, 'unresponsive'); } catch { /* gone */ }
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    const c = this.current;
    if (!c || !c.ready) return;
    const now = Date.now();
    if (this.rule.hasGap && this.gapSince && now - this.gapSince >= this.opts.gapTimeoutMs && this.synced) {
      this.gapSince = now;
      void this.subscribe(c); // the gap stayed open: read it from the log
    }
    if (!this.replacement && now - c.opened >= this.opts.maxConnectionAgeMs) {
      try {
        const fresh = await this.openSocket();
        if (this.closed) { fresh.ws.close(); return; }
        this.replacement = fresh;
        void this.subscribe(fresh);
      } catch { /* next tick */ }
    }
    if (now - (c.lastSent ?? c.opened) >= this.opts.pingIntervalMs) {
      this.request(c, { action: 'ping' }).then((pong) => {
        // the pong names the session's head: past what we have with no gap pending means the last
        // events never reached us (their delivery gave up), so resume from the last one we have
        const head = pong?.heads?.[this.sessionId] ?? 0;
        if (!this.closed && this.synced && !this.rule.hasGap && head > this.rule.last && !c.dead) void this.subscribe(c);
      }).catch(() => {});
    }
  }

  // -------------------------------------------------------------------------------- frames

  private onFrame(conn: Conn, f: any): void {
    if (f.requestId && SERVICE_ANSWERS.has(f.type)) {
      const p = conn.pending.get(f.requestId);
      if (p) { conn.pending.delete(f.requestId); p.resolve(f); }
      return;
    }
    if (f.type === 'events') {
      for (const e of f.events ?? []) this.offer(e);
      this.changed();
    } else if (f.type === 'session_deleted' && f.sessionId === this.sessionId) {
      // everything we hold is gone on the server: resuming would only fail, and keeping it would show it
      this.close();
      this.forget();
      this.emit('deleted', { sessionId: this.sessionId });
      this.changed();
    } else if (f.type === 'snapshot') {
      if (this.synced || !conn.snapshot || (conn.hydrateId && f.requestId !== conn.hydrateId)) return;
      conn.snapshot.push(f);
      if (f.final) {
        const state = joinSnapshot(conn.snapshot);
        conn.snapshot = null;
        this.assembler = new Assembler(state);
        this.rule.advanceTo(state.headSeq);
        this.synced = true;
        for (const m of this.assembler.messages.values()) {
          if (this.assembler.messageStatus(m) !== 'streaming') this.ended.add(m.messageId);
        }
        this.emit('snapshot', this.assembler.state());
        this.drain();
        this.changed();
      }
    }
  }

  /** The client rule: drop seq ≤ last, apply last+1, hold the rest until the gap closes. */
  private offer(e: SessionEvent): void {
    if (typeof e?.seq !== 'number') return;
    if (!this.rule.hold(e)) { this.stats.duplicates++; return; }
    if (this.synced) this.drain();
  }

  private drain(): void {
    this.rule.drain((e) => {
      this.assembler.apply(e);
      this.emit('event', e);
      this.afterApply(e);
    });
    if (!this.rule.hasGap) this.gapSince = 0;
    else if (!this.gapSince) this.gapSince = Date.now();
  }

  private afterApply(e: SessionEvent): void {
    const endReply = (messageId: string, runId: string | null, reason: string, stoppedAtSeq: number | null) => {
      if (this.ended.has(messageId)) return;
      this.ended.add(messageId);
      this.emit('replyEnd', { messageId, runId, reason, stoppedAtSeq });
    };
    if (e.type === 'message.end') endReply(e.data.messageId, e.runId ?? null, e.data.reason ?? 'complete', null);
    if (e.type === 'run.interrupted' && e.data?.messageId) endReply(e.data.messageId, e.runId ?? null, 'interrupted', null);
    if (e.runId && e.type.startsWith('run.')) {
      const r = this.assembler.runs.get(e.runId);
      if (r) this.emit('run', { ...r });
      if (r && FENCED_STATES.has(r.state)) {
        const reason = r.state === 'failed' ? 'error' : r.state === 'completed' ? 'complete' : 'stopped';
        for (const m of this.assembler.messages.values()) {
          if (m.runId === r.runId && m.status === 'streaming') endReply(m.messageId, r.runId, reason, r.stoppedAtSeq);
        }
      }
    }
  }

  private changed(): void {
    if (this.pendingRender) return;
    this.pendingRender = true;
    const flush = () => {
      this.pendingRender = false;
      this.emit('state', this.assembler.state());
      if (!this.saveTimer) this.saveTimer = setTimeout(() => { this.saveTimer = null; this.save(); }, 250);
    };
    const doc = (globalThis as any).document;
    if ((globalThis as any).requestAnimationFrame && doc && !doc.hidden) (globalThis as any).requestAnimationFrame(flush);
    else setTimeout(flush, 16);
  }

  // ------------------------------------------------------------------------------ writing

  /** Waits for a subscribed connection (or gives up after timeoutMs). */
  async ready(timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.current && this.current.ready)) {
      if (this.closed || Date.now() > deadline) throw new Error('not connected');
      await sleep(50);
    }
  }

  /** Waits until the state is hydrated or restored, so `state` reflects the session. */
  async whenSynced(timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced) {
      if (this.closed || Date.now() > deadline) throw new Error('not synced');
      await sleep(25);
    }
  }

  /**
   * Appends events with this client's idempotent producer, one append at a time. A timeout, a
   * lost connection, INTERNAL, CONTENTION or RATE_LIMITED re-sends the same producer seq.
   * Resolves with the ack; rejects with a {@link DurableSessionError} when the service refuses.
   */
  append(events: EventInput[], { runId }: { runId?: string } = {}): Promise<any> {
    const run = async () => {
      const seq = this.producer.seq;
      for (let attempt = 0; ; attempt++) {
        if (this.closed) throw new Error('session closed');
        const frame: Record<string, unknown> = { action: 'append', sessionId: this.sessionId, events,
                                                 producer: { id: this.producer.id, epoch: this.producer.epoch, seq } };
        if (runId) frame.runId = runId;
        let answer;
        try {
          await this.ready();
          answer = await this.request(this.current, frame);
        } catch {
          await sleep(Math.min(2000, 100 * 2 ** attempt));
          continue;
        }
        if (answer.type === 'ack') { this.producer.seq = seq + 1; return answer; }
        if (isRetryable(answer.code)) {
          await sleep(Math.max(answer.details?.retryAfterMs ?? 0, 100 * 2 ** Math.min(attempt, 5)));
          continue;
        }
        throw new DurableSessionError(answer.code, answer.message, answer);
      }
    };
    const result = this.appendChain.then(run, run);
    this.appendChain = result.catch(() => {});
    return result;
  }

  /** Appends a complete user message (start, text, end) in one atomic append. Resolves with its messageId. */
  async sendUserMessage(text: string, { messageId = randomId('u-') }: { messageId?: string } = {}): Promise<string> {
    await this.append([
      { type: 'message.start', data: { messageId, role: 'user' } },
      { type: 'text.delta', data: { messageId, text } },
      { type: 'message.end', data: { messageId } },
    ]);
    return messageId;
  }

  /** A `control` request (cancel, interrupt, steer). Rejects with a {@link DurableSessionError} when refused. */
  async control(runId: string, command: 'cancel' | 'interrupt' | 'steer',
                { text, messageId }: { text?: string; messageId?: string } = {}): Promise<any> {
    const frame: Record<string, unknown> = { action: 'control', sessionId: this.sessionId, runId, command };
    if (text) frame.text = text;
    if (messageId) frame.messageId = messageId;
    await this.ready();
    const answer = await this.request(this.current, frame);
    if (answer.type === 'error') throw new DurableSessionError(answer.code, answer.message, answer);
    return answer;
  }

  /** Stops a run: fenced in the database at its last accepted seq (`run.stop_requested`). */
  stop(runId: string, reason?: string): Promise<any> { return this.control(runId, 'cancel', { text: reason }); }
  steer(runId: string, text: string): Promise<any> { return this.control(runId, 'steer', { text }); }
  interrupt(runId: string, messageId?: string): Promise<any> { return this.control(runId, 'interrupt', { messageId }); }

  /** The newest run that is still running, or null. */
  activeRun(): RunView | null {
    const runs = [...this.assembler.runs.values()].filter((r) => r.state === 'running');
    return runs.length ? { ...runs[runs.length - 1] } : null;
  }
}
