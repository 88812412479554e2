// Durable sessions: the browser client. A plain ES module, no dependencies, no build step.
//
//   import { DurableSession } from './durable-session.js';
//   const s = new DurableSession({ url: 'ws://127.0.0.1:8787/local', sessionId: 'demo',
//                                  connectQuery: ({ instance }) => `id=me&role=client&instance=${instance}` });
//   s.on('state', (state) => render(state));
//   s.start();
//
// Guarantees (docs/protocol.md §7): every event is applied exactly once and in seq order across
// reconnects, reloads (the tab keeps `last` and the assembled state in sessionStorage) and gaps;
// a new tab hydrates the assembled state, then tails live.

const SERVICE_ANSWERS = new Set(['ack', 'error', 'subscribed', 'pong', 'unsubscribed']);
const RETRY_CODES = new Set(['INTERNAL', 'CONTENTION', 'RATE_LIMITED']);
const FATAL_SUBSCRIBE = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'INVALID_MESSAGE', 'MALFORMED_JSON', 'UNKNOWN_ACTION']);
const FENCED = new Set(['stop_requested', 'stopped', 'completed', 'failed']);

function randomId(prefix) {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A stable id for this tab: survives reloads, differs between tabs (sessionStorage is per tab). */
export function tabInstanceId(storage = globalThis.sessionStorage) {
  let id = storage?.getItem('ds.instance');
  if (!id) {
    id = randomId('tab-');
    storage?.setItem('ds.instance', id);
  }
  return id;
}

/** Folds events into the snapshot shape of docs/protocol.md §8 (the Java Assembler's rules). */
export class Assembler {
  constructor(state) {
    const s = state ?? { headSeq: 0, items: [], runs: [], agents: [], presence: [] };
    this.headSeq = s.headSeq ?? 0;
    this.items = (s.items ?? []).map((i) => ({ ...i }));
    this.runs = new Map((s.runs ?? []).map((r) => [r.runId, { ...r }]));
    this.agents = new Map((s.agents ?? []).map((a) => [a.agentId, { ...a }]));
    this.presence = new Map((s.presence ?? []).map((p) => [p.memberId, { ...p, lastSeq: p.joinedSeq }]));
    this.messages = new Map();
    this.tools = new Map();
    for (const i of this.items) {
      if (i.kind === 'message') this.messages.set(i.messageId, i);
      if (i.kind === 'tool_call') this.tools.set(i.toolCallId, i);
    }
  }

  apply(e) {
    this.headSeq = Math.max(this.headSeq, e.seq);
    const d = e.data ?? {};
    const fresh = (entity) => e.seq > entity.lastSeq;
    switch (e.type) {
      case 'message.start':
      case 'text.delta':
      case 'message.end': {
        let m = this.messages.get(d.messageId);
        if (!m) {
          m = { kind: 'message', messageId: d.messageId, role: 'assistant', agentId: e.agentId, runId: e.runId ?? null,
                text: '', status: 'streaming', firstSeq: e.seq, lastSeq: 0 };
          this.messages.set(d.messageId, m);
          this.insertItem(m);
        }
        if (!fresh(m)) break;
        if (e.type === 'message.start') m.role = d.role;
        else if (e.type === 'text.delta') m.text += d.text;
        else m.status = d.reason ?? 'complete';
        m.lastSeq = e.seq;
        break;
      }
      case 'tool.call':
      case 'tool.result': {
        let t = this.tools.get(d.toolCallId);
        if (!t) {
          t = { kind: 'tool_call', toolCallId: d.toolCallId, name: '', arguments: null, result: null, isError: false,
                status: 'pending', agentId: e.agentId, runId: e.runId ?? null, firstSeq: e.seq, lastSeq: 0 };
          this.tools.set(d.toolCallId, t);
          this.insertItem(t);
        }
        if (!fresh(t)) break;
        if (e.type === 'tool.call') { t.name = d.name; t.arguments = d.arguments ?? null; }
        else { t.result = d.result ?? null; t.isError = !!d.isError; t.status = 'done'; }
        t.lastSeq = e.seq;
        break;
      }
      case 'custom':
        if (!this.items.some((i) => i.kind === 'custom' && i.firstSeq === e.seq)) {
          this.insertItem({ kind: 'custom', name: d.name, payload: d.payload ?? null, agentId: e.agentId,
                            runId: e.runId ?? null, firstSeq: e.seq, lastSeq: e.seq });
        }
        break;
      case 'run.interrupted': {
        const m = d.messageId && this.messages.get(d.messageId);
        if (m && e.seq > m.lastSeq && m.status === 'streaming') { m.status = 'interrupted'; m.lastSeq = e.seq; }
        break;
      }
      case 'presence.joined': {
        const p = this.presence.get(d.memberId);
        if (!p || e.seq > p.lastSeq) {
          this.presence.set(d.memberId, { memberId: d.memberId, principal: d.principal, role: d.role, label: d.label ?? null,
                                          surface: d.surface ?? null, joinedSeq: e.seq, lastSeq: e.seq });
        }
        break;
      }
      case 'presence.left': {
        const p = this.presence.get(d.memberId);
        if (p && e.seq > p.lastSeq) this.presence.delete(d.memberId);
        break;
      }
      case 'agent.joined':
      case 'agent.left': {
        let a = this.agents.get(e.agentId);
        if (!a) { a = { agentId: e.agentId, label: null, present: true, firstSeq: e.seq, lastSeq: 0 }; this.agents.set(e.agentId, a); }
        if (e.seq > a.lastSeq) {
          a.present = e.type === 'agent.joined';
          if (a.present && d.label) a.label = d.label;
          a.lastSeq = e.seq;
        }
        break;
      }
      default:
    }
    if (e.runId) this.applyToRun(e);
  }

  applyToRun(e) {
    let r = this.runs.get(e.runId);
    if (!r) {
      if (e.type !== 'run.started') return;
      this.runs.set(e.runId, { runId: e.runId, agentId: e.agentId, parentRunId: e.data?.parentRunId ?? null,
                               state: 'running', startedSeq: e.seq, lastSeq: e.seq, stoppedAtSeq: null });
      if (!this.agents.has(e.agentId)) {
        this.agents.set(e.agentId, { agentId: e.agentId, label: null, present: true, firstSeq: e.seq, lastSeq: e.seq });
      }
      return;
    }
    if (e.seq <= r.lastSeq) return;
    r.lastSeq = e.seq;
    const next = {
      'run.completed': { running: 'completed' },
      'run.failed': { running: 'failed', stop_requested: 'failed' },
      'run.stop_requested': { running: 'stop_requested' },
      'run.stop_acknowledged': { stop_requested: 'stopped' },
      'run.stopped': { running: 'stopped', stop_requested: 'stopped' },
    }[e.type]?.[r.state];
    if (!next) return;
    if (r.state === 'running' && FENCED.has(next)) r.stoppedAtSeq = e.data?.stoppedAtSeq ?? e.seq;
    r.state = next;
  }

  insertItem(item) {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1].firstSeq > item.firstSeq) i--;
    this.items.splice(i, 0, item);
  }

  /** A reply whose run is fenced without a message.end never looks "streaming". */
  messageStatus(m) {
    if (m.status !== 'streaming' || !m.runId) return m.status;
    const r = this.runs.get(m.runId);
    if (!r || !FENCED.has(r.state)) return m.status;
    return r.state === 'failed' ? 'error' : r.state === 'completed' ? 'complete' : 'interrupted';
  }

  state() {
    return {
      headSeq: this.headSeq,
      items: this.items.map((i) => (i.kind === 'message' ? { ...i, status: this.messageStatus(i) } : { ...i })),
      runs: [...this.runs.values()].sort((a, b) => a.startedSeq - b.startedSeq).map((r) => ({ ...r })),
      agents: [...this.agents.values()].map((a) => ({ ...a })),
      presence: [...this.presence.values()].sort((a, b) => a.joinedSeq - b.joinedSeq)
        .map(({ lastSeq, ...p }) => p),
    };
  }
}

/** Joins the snapshot frames of one hydrate (§8.1). */
function joinSnapshot(frames) {
  const state = { headSeq: 0, items: [], runs: [], agents: [], presence: [] };
  for (const f of frames) {
    state.headSeq = f.headSeq;
    const st = f.state ?? {};
    if (st.runs) state.runs = st.runs;
    if (st.agents) state.agents = st.agents;
    if (st.presence) state.presence = st.presence;
    for (const item of st.items ?? []) {
      const prev = state.items[state.items.length - 1];
      if (item.continued && prev) {
        if (item.kind === 'message') prev.text += item.text ?? '';
        else prev.result = item.result;
      } else {
        state.items.push({ ...item });
      }
    }
  }
  return state;
}

/**
 * One session, read and written from a browser tab.
 *
 * Events (subscribe with `on(name, fn)`):
 *   'event'     (event)                   each event, once, in seq order
 *   'state'     (state)                   the assembled state changed (throttled to animation frames)
 *   'snapshot'  (state)                   a hydrate finished
 *   'status'    ({connected, reconnecting, attempt})
 *   'replyEnd'  ({messageId, runId, reason, stoppedAtSeq})  a reply will not stream any more
 *   'run'       (run)                     a run changed state
 *   'deleted'   ({sessionId})             the session was erased (DELETE or retention): the object has
 *                                         closed itself and forgotten the session; it will not resume it
 *   'error'     (errorFrame | Error)
 */
export class DurableSession {
  constructor({
    url, sessionId, connectQuery = () => '', protocols = null, storage = globalThis.sessionStorage,
    gapTimeoutMs = 2000, maxConnectionAgeMs = 110 * 60 * 1000, pingIntervalMs = 5 * 60 * 1000,
    requestTimeoutMs = 10000, backoff = { initialMs: 200, maxMs: 10000 }, persist = true,
  }) {
    this.url = url;
    this.sessionId = sessionId;
    this.connectQuery = connectQuery;
    this.protocols = protocols;
    this.storage = storage;
    this.instance = tabInstanceId(storage);
    this.opts = { gapTimeoutMs, maxConnectionAgeMs, pingIntervalMs, requestTimeoutMs, backoff, persist };
    this.listeners = new Map();
    this.last = 0;
    this.synced = false;
    this.buffer = new Map();
    this.gapSince = 0;
    this.assembler = new Assembler();
    this.current = null;
    this.replacement = null;
    this.attempt = 0;
    this.closed = false;
    this.requests = 0;
    this.ended = new Set();
    this.producer = { id: `${this.instance}`, epoch: Date.now(), seq: 0 };
    this.appendChain = Promise.resolve();
    this.stats = { duplicates: 0, connects: 0, resubscribes: 0 };
    this.restore();
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  emit(name, value) {
    for (const fn of this.listeners.get(name) ?? []) {
      try { fn(value); } catch (e) { console.error(e); }
    }
  }

  get state() { return this.assembler.state(); }
  get lastSeq() { return this.last; }
  get connected() { return !!this.current && this.current.ready; }

  start() {
    this.connect();
    this.timer = setInterval(() => this.tick(), 200);
    this.onHide = () => this.save();
    globalThis.addEventListener?.('pagehide', this.onHide);
    return this;
  }

  close() {
    this.closed = true;
    clearInterval(this.timer);
    globalThis.removeEventListener?.('pagehide', this.onHide);
    this.save();
    for (const c of [this.current, this.replacement]) if (c) c.ws.close(1000, 'bye');
    this.current = this.replacement = null;
  }

  // ---------------------------------------------------------------- persistence (per tab)

  storageKey() { return `ds.session.${this.sessionId}`; }

  restore() {
    if (!this.opts.persist || !this.storage) return;
    try {
      const saved = JSON.parse(this.storage.getItem(this.storageKey()) ?? 'null');
      if (saved && saved.last > 0 && saved.state) {
        this.assembler = new Assembler(saved.state);
        this.last = saved.last;
        this.synced = true;
        for (const id of saved.ended ?? []) this.ended.add(id);
      }
    } catch { /* a broken entry: hydrate instead */ }
  }

  save() {
    if (!this.opts.persist || !this.storage || !this.synced) return;
    try {
      this.storage.setItem(this.storageKey(), JSON.stringify({
        last: this.last, state: this.assembler.state(), ended: [...this.ended].slice(-200) }));
    } catch { /* quota: resume falls back to a hydrate */ }
  }

  // ----------------------------------------------------------------------- connections

  async openSocket() {
    const q = await this.connectQuery({ instance: this.instance, sessionId: this.sessionId });
    const query = q ? (q.startsWith('?') ? q.slice(1) : q) : '';
    const url = query ? `${this.url}${this.url.includes('?') ? '&' : '?'}${query}` : this.url;
    const protocols = this.protocols ? await this.protocols({ instance: this.instance }) : undefined;
    const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    const conn = { ws, ready: false, opened: Date.now(), pending: new Map(), dead: false };
    ws.onmessage = (m) => {
      if (conn.dead) return;
      let f;
      try { f = JSON.parse(m.data); } catch { return; }
      this.onFrame(conn, f);
    };
    ws.onclose = () => this.onClosed(conn);
    ws.onerror = () => {};
    await new Promise((resolve, reject) => {
      ws.onopen = () => { conn.ready = true; resolve(); };
      ws.addEventListener('close', () => reject(new Error('closed before open')), { once: true });
    });
    return conn;
  }

  async connect() {
    if (this.closed) return;
    this.emit('status', { connected: false, reconnecting: this.attempt > 0, attempt: this.attempt });
    try {
      const conn = await this.openSocket();
      if (this.closed) { conn.ws.close(); return; }
      this.current = conn;
      this.subscribe(conn);
    } catch {
      this.scheduleReconnect();
    }
  }

  scheduleReconnect() {
    if (this.closed || this.reconnectTimer) return;
    const { initialMs, maxMs } = this.opts.backoff;
    const cap = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 16));
    const delay = initialMs / 2 + Math.random() * Math.max(0, cap - initialMs / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => { this.reconnectTimer = null; this.connect(); }, delay);
  }

  onClosed(conn) {
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
  dropConnection() {
    const c = this.current;
    if (!c) return;
    this.onClosed(c); // from now on nothing of this socket is read
    try { c.ws.close(4000, 'dropped by the client'); } catch { /* already gone */ }
  }

  request(conn, frame, timeoutMs = this.opts.requestTimeoutMs) {
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
        reject(e);
      }
    });
  }

  async subscribe(conn) {
    if (this.closed || conn.dead) return;
    const frame = { action: 'subscribe', sessionId: this.sessionId };
    const hydrate = !this.synced;
    if (hydrate) { frame.hydrate = true; this.buffer.clear(); conn.snapshot = []; }
    else frame.afterSeq = this.last;
    this.stats.resubscribes++;
    let answer;
    try {
      const p = this.request(conn, frame, 30000);
      conn.hydrateId = hydrate ? frame.requestId : null;
      answer = await p;
    } catch (e) {
      if (e.message === 'timeout' && !conn.dead) this.dropSocket(conn);
      return;
    }
    if (answer.type === 'error') {
      this.emit('error', answer);
      if (FATAL_SUBSCRIBE.has(answer.code)) { this.close(); return; }
      const { initialMs, maxMs } = this.opts.backoff;
      const wait = Math.max(answer.details?.retryAfterMs ?? 0, Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt++, 16)));
      setTimeout(() => this.subscribe(conn), wait);
      return;
    }
    if (answer.complete === false || !this.synced) { this.subscribe(conn); return; }
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

  dropSocket(conn) {
    this.onClosed(conn);
    try { conn.ws.close(4001, 'unresponsive'); } catch { /* gone */ }
  }

  async tick() {
    if (this.closed) return;
    const c = this.current;
    if (!c || !c.ready) return;
    const now = Date.now();
    if (this.buffer.size > 0 && this.gapSince && now - this.gapSince >= this.opts.gapTimeoutMs && this.synced) {
      this.gapSince = now;
      this.subscribe(c); // the gap stayed open: read it from the log
    }
    if (!this.replacement && now - c.opened >= this.opts.maxConnectionAgeMs) {
      try {
        const fresh = await this.openSocket();
        if (this.closed) { fresh.ws.close(); return; }
        this.replacement = fresh;
        this.subscribe(fresh);
      } catch { /* next tick */ }
    }
    if (now - (c.lastSent ?? c.opened) >= this.opts.pingIntervalMs) {
      this.request(c, { action: 'ping' }).then((pong) => {
        // the pong names the session's head: past what we have with no gap pending means the last
        // events never reached us (their delivery gave up), so resume from the last one we have
        const head = pong?.heads?.[this.sessionId] ?? 0;
        if (!this.closed && this.synced && this.buffer.size === 0 && head > this.last && !c.dead) this.subscribe(c);
      }).catch(() => {});
    }
  }

  // -------------------------------------------------------------------------------- frames

  onFrame(conn, f) {
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
      try { this.storage?.removeItem(this.storageKey()); } catch { /* storage unavailable */ }
      this.assembler = new Assembler();
      this.last = 0;
      this.emit('deleted', { sessionId: this.sessionId });
      this.changed();
    } else if (f.type === 'snapshot') {
      if (this.synced || !conn.snapshot || (conn.hydrateId && f.requestId !== conn.hydrateId)) return;
      conn.snapshot.push(f);
      if (f.final) {
        const state = joinSnapshot(conn.snapshot);
        conn.snapshot = null;
        this.assembler = new Assembler(state);
        this.last = Math.max(this.last, state.headSeq);
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
  offer(e) {
    if (typeof e?.seq !== 'number') return;
    if (e.seq <= this.last || this.buffer.has(e.seq)) { this.stats.duplicates++; return; }
    this.buffer.set(e.seq, e);
    if (this.synced) this.drain();
  }

  drain() {
    for (const seq of [...this.buffer.keys()]) if (seq <= this.last) { this.buffer.delete(seq); this.stats.duplicates++; }
    while (this.buffer.has(this.last + 1)) {
      const e = this.buffer.get(this.last + 1);
      this.buffer.delete(this.last + 1);
      this.last = e.seq;
      this.assembler.apply(e);
      this.emit('event', e);
      this.afterApply(e);
    }
    if (this.buffer.size === 0) this.gapSince = 0;
    else if (!this.gapSince) this.gapSince = Date.now();
  }

  afterApply(e) {
    const endReply = (messageId, runId, reason, stoppedAtSeq) => {
      if (this.ended.has(messageId)) return;
      this.ended.add(messageId);
      this.emit('replyEnd', { messageId, runId, reason, stoppedAtSeq });
    };
    if (e.type === 'message.end') endReply(e.data.messageId, e.runId ?? null, e.data.reason ?? 'complete', null);
    if (e.type === 'run.interrupted' && e.data?.messageId) endReply(e.data.messageId, e.runId, 'interrupted', null);
    if (e.runId && e.type.startsWith('run.')) {
      const r = this.assembler.runs.get(e.runId);
      if (r) this.emit('run', { ...r });
      if (r && FENCED.has(r.state)) {
        const reason = r.state === 'failed' ? 'error' : r.state === 'completed' ? 'complete' : 'stopped';
        for (const m of this.assembler.messages.values()) {
          if (m.runId === r.runId && m.status === 'streaming') endReply(m.messageId, r.runId, reason, r.stoppedAtSeq);
        }
      }
    }
  }

  changed() {
    if (this.pendingRender) return;
    this.pendingRender = true;
    const flush = () => {
      this.pendingRender = false;
      this.emit('state', this.assembler.state());
      if (!this.saveTimer) this.saveTimer = setTimeout(() => { this.saveTimer = null; this.save(); }, 250);
    };
    if (globalThis.requestAnimationFrame && !document.hidden) requestAnimationFrame(flush);
    else setTimeout(flush, 16);
  }

  // ------------------------------------------------------------------------------ writing

  /** Waits for a subscribed connection (or gives up after timeoutMs). */
  async ready(timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    while (!(this.current && this.current.ready)) {
      if (this.closed || Date.now() > deadline) throw new Error('not connected');
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.current;
  }

  /**
   * Appends events with this tab's idempotent producer, one append at a time. A timeout, a lost
   * connection, INTERNAL, CONTENTION or RATE_LIMITED re-sends the same producer seq.
   * Resolves with the ack; rejects with the error frame when the service refuses.
   */
  append(events, { runId } = {}) {
    const run = async () => {
      const seq = this.producer.seq;
      for (let attempt = 0; ; attempt++) {
        const frame = { action: 'append', sessionId: this.sessionId, events,
                        producer: { id: this.producer.id, epoch: this.producer.epoch, seq } };
        if (runId) frame.runId = runId;
        let answer;
        try {
          answer = await this.request(await this.ready(), frame);
        } catch {
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
          continue;
        }
        if (answer.type === 'ack') { this.producer.seq = seq + 1; return answer; }
        if (RETRY_CODES.has(answer.code)) {
          await new Promise((r) => setTimeout(r, Math.max(answer.details?.retryAfterMs ?? 0, 100 * 2 ** Math.min(attempt, 5))));
          continue;
        }
        throw Object.assign(new Error(`${answer.code}: ${answer.message}`), { frame: answer });
      }
    };
    const result = this.appendChain.then(run, run);
    this.appendChain = result.catch(() => {});
    return result;
  }

  /** Appends a complete user message (start, text, end) in one atomic append. Resolves with its messageId. */
  async sendUserMessage(text, { messageId = randomId('u-') } = {}) {
    await this.append([
      { type: 'message.start', data: { messageId, role: 'user' } },
      { type: 'text.delta', data: { messageId, text } },
      { type: 'message.end', data: { messageId } },
    ]);
    return messageId;
  }

  async control(runId, command, { text, messageId } = {}) {
    const frame = { action: 'control', sessionId: this.sessionId, runId, command };
    if (text) frame.text = text;
    if (messageId) frame.messageId = messageId;
    const answer = await this.request(await this.ready(), frame);
    if (answer.type === 'error') throw Object.assign(new Error(`${answer.code}: ${answer.message}`), { frame: answer });
    return answer;
  }

  stop(runId, reason) { return this.control(runId, 'cancel', { text: reason }); }
  steer(runId, text) { return this.control(runId, 'steer', { text }); }
  interrupt(runId, messageId) { return this.control(runId, 'interrupt', { messageId }); }

  /** The newest run that is still running, or null. */
  activeRun() {
    const runs = [...this.assembler.runs.values()].filter((r) => r.state === 'running');
    return runs.length ? runs[runs.length - 1] : null;
  }
}
