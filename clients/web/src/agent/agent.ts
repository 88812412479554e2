// The agent side of a session, for Node (and any runtime with fetch or a WebSocket): opens runs,
// streams replies, calls tools and obeys stop, interrupt and steer — over the WebSocket or over
// the HTTP API, chosen by the URL's scheme. The semantics are those of the Java DurableAgent:
//
// - Every append goes through ONE idempotent producer (id, epoch, seq), one at a time (the next is
//   sent when the previous is acked). A timeout, INTERNAL, CONTENTION, RATE_LIMITED or a lost
//   connection or response re-sends the SAME producer seq, so a lost ack never writes twice
//   (`duplicate: true` counts as success).
// - Text, reasoning and tool input are coalesced: a reply (or tool call) appends its text at most once
//   per `coalesceWindowMs` (300 ms). Its first text, and the first after a quiet window, goes at once;
//   text that comes sooner waits until a window after the last append, so nothing waits longer than
//   the window. Big text is split so every event stays under the protocol's limit. Anything else that
//   is written sends what waits first, in order. (The Java agent's rule; events' Coalescing says why.)
// - Cancel, interrupt and steer reach `onControl` once each (deduplicated by seq). Over the
//   WebSocket they come from a `controlOnly` subscription; over HTTP in the answer to every append
//   and heartbeat of the run, acknowledged once the callback ran. Once a run (or reply) is fenced
//   its `signal` aborts, pending and later events are dropped, and a requested stop is
//   acknowledged (`run.stop_acknowledged`).
// - A run that wrote nothing for `heartbeatIntervalMs` (5 s) sends `heartbeat`.
import { isRetryable } from '../errors.js';
import { DurableSessionError, type WebSocketConstructor } from '../session.js';
import type { MessagePart } from '../types.js';
import { type Backoff, DEFAULT_BACKOFF, backoffDelay, sleep } from './backoff.js';
import { HttpAgentTransport, type HttpTransportOptions } from './http-transport.js';
import { Coalescer, type HeldText, SYSTEM_CLOCK } from './coalescer.js';
import { encodedBytes, splitText } from './text.js';
import type { AgentTransport, Refused } from './transport.js';
import { WsAgentTransport } from './ws-transport.js';

/** Room left in a stored event for its envelope (ids are at most 128 chars each). */
const ENVELOPE_RESERVE = 2048;
const MAX_EVENT_BYTES = 96 * 1024;
const MAX_EVENTS_PER_APPEND = 64;
/** The Java SDK's Coalescing.DEFAULT_WINDOW (checked by test/unit/coalescing.test.js against fixtures/coalescing.json). */
export const DEFAULT_COALESCE_WINDOW_MS = 300;
/** Appends of one producer the service holds for their predecessors (docs/protocol.md §9). */
const MAX_PRODUCER_IN_FLIGHT = 16;
/** Events of one append, in encoded bytes: well under the 128 KB message limit. */
const APPEND_BUDGET = 100 * 1024;

export type ControlKind = 'cancel' | 'interrupt' | 'steer' | 'fenced';

/** A control event of one of this agent's runs, delivered once. */
export interface ControlEvent {
  /** cancel: a client stopped the run; interrupt: the reply was ended; steer: an instruction; fenced: the run ended otherwise. */
  kind: ControlKind;
  runId: string;
  messageId?: string;
  /** The steer instruction, or the stop's reason. */
  text?: string;
  /** The run's state when fenced (`stop_requested`, `stopped`, `completed`, `failed`). */
  state?: string;
  seq: number;
  event?: any;
}

export interface DurableAgentOptions {
  /** `ws://`/`wss://`: the WebSocket URL; `http://`/`https://`: the HTTP API's base URL (paths start with /v1 below it). */
  url: string;
  sessionId: string;
  /** The idempotent producer's id: stable for this writer, unique among concurrent writers of the session. */
  producerId: string;
  /** The producer epoch: must grow with every restart. Default: the start time in ms. */
  epoch?: number;
  /** WebSocket: the `$connect` query for every (re)connect, e.g. `token=…`. */
  connectQuery?: () => string | Promise<string>;
  /** WebSocket: subprotocols for every (re)connect. */
  protocols?: () => string[] | Promise<string[]>;
  /** HTTP: the token sent as `Authorization: Bearer …`, asked for on every request. */
  bearerToken?: HttpTransportOptions['bearerToken'];
  /** HTTP: more headers for every request (e.g. a SigV4 signature). */
  headers?: HttpTransportOptions['headers'];
  /** The WebSocket class (default the global one, else the `ws` package). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /**
   * A reply's text is appended at most once per window (default 300 ms); the first text after a quiet
   * window goes at once. 0 sends every delta at once.
   */
  coalesceWindowMs?: number;
  /**
   * How many appends may be on their way at once, each under the next producer seq (docs/protocol.md §2,
   * producer.pipeline); 1 sends the next when the previous is answered. 1–16, default 4.
   */
  maxInFlight?: number;
  /** Text of one delta event, in encoded bytes; more is flushed at once and split. */
  maxDeltaBytes?: number;
  heartbeatIntervalMs?: number;
  /** How long to wait for an answer before re-sending the same producer seq. */
  requestTimeoutMs?: number;
  /** WebSocket: the connection is replaced after this long (API Gateway closes it at 2 hours). */
  maxConnectionAgeMs?: number;
  backoff?: Backoff;
  /** Cancel, interrupt, steer and other fences of this agent's runs: one at a time, in seq order. */
  onControl?: (e: ControlEvent) => void | Promise<void>;
  /** A write the service refused for good (e.g. STALE_EPOCH: this producer is fenced). */
  onError?: (e: DurableSessionError) => void;
  /**
   * The W3C `traceparent` each append carries (docs/protocol.md §3.1), asked once per append sent;
   * undefined sends none, and so does a value that is not a valid traceparent. Subscribers see it on
   * every event of that append.
   */
  traceparent?: () => string | undefined;
  log?: (message: string) => void;
  /** WebSocket fault injection for tests: inbound frames for which this returns false are dropped as if lost. */
  deliverInbound?: (frame: any) => boolean;
}

interface Result { ok: boolean; error?: DurableSessionError }

interface Pending {
  type: string;
  runId: string | null;
  messageId: string | null;
  /** Deltas of one message (or tool call) and type merge into one event when they meet in the queue. */
  mergeKey: string | null;
  data: Record<string, any>;
  bypassFence: boolean;
  followers: Pending[];
  resolve: (r: Result) => void;
  promise: Promise<Result>;
}

/** What became of one producer seq: stored (or a duplicate), settled unstored, or to go again under another seq. */
type Settled = 'stored' | 'not_stored' | 'renumber' | 'forgotten';

/** An append in flight under one producer seq. */
interface Slot { batch: Pending[]; settled: Settled | null }

interface RunEntry {
  run: Run;
  /** The state the agent's own run.completed / run.failed (handed to the producer) ends the run in. */
  ending?: string;
  fenced: boolean;
  stopAcked: boolean;
  notified: boolean;
  currentReply: string | null;
  lastControlSeq: number;
  handledControlSeq: number;
  wroteSinceTick: boolean;
  controller: AbortController;
  replies: Map<string, Reply>;
}

/** A reply's key in the coalescer (a tool call's input has its own, `t:<toolCallId>`). */
const replyKey = (messageId: string): string => `m:${messageId}`;

const unref = <T>(t: T): T => { (t as any)?.unref?.(); return t; };

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const g = (globalThis as any).WebSocket;
  if (g) return g;
  try {
    const mod: any = await import('ws');
    return mod.default ?? mod.WebSocket;
  } catch {
    throw new Error('no WebSocket in this runtime: install the ws package, pass options.WebSocket, or use the HTTP API (http:// URL)');
  }
}

export class DurableAgent {
  readonly sessionId: string;
  readonly producerId: string;
  readonly epoch: number;
  /** Appends acked (duplicates included), re-sends, and duplicate acks: for tests and metrics. */
  readonly stats = { appendsAcked: 0, retries: 0, duplicateAcks: 0 };

  private transport!: AgentTransport;
  private readonly maxDeltaBytes: number;
  private readonly backoff: Backoff;
  private readonly queue: Pending[] = [];
  private readonly runs = new Map<string, RunEntry>();
  private readonly fencedMessages = new Set<string>();
  private readonly coalescer: Coalescer;
  private readonly maxInFlight: number;
  // the producer seqs sent and not yet passed by (in seq order), what goes again under new seqs, the next
  // seq to take, and the lowest seq settled without being stored while later ones were in flight (-1: none)
  private readonly slots = new Map<number, Slot>();
  private renumbered: Pending[][] = [];
  private nextSendSeq = 0;
  private brokenAt = -1;
  /** The service answered that it holds no state of this producer (its session was erased): start again at 0. */
  private forgotten = false;
  /** Every seq up to this one was acked as stored (-1: none yet, in this numbering). */
  private storedThrough = -1;
  private slotWaiters: (() => void)[] = [];
  private closed = false;
  private producerFenced: DurableSessionError | null = null;
  private wake: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private callbacks: Promise<void> = Promise.resolve();
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private loop?: Promise<void>;

  private constructor(private readonly o: DurableAgentOptions) {
    this.sessionId = o.sessionId;
    this.producerId = o.producerId;
    this.epoch = o.epoch ?? Date.now();
    this.maxDeltaBytes = Math.min(o.maxDeltaBytes ?? 16 * 1024, MAX_EVENT_BYTES - ENVELOPE_RESERVE);
    if (this.maxDeltaBytes < 64) throw new Error('maxDeltaBytes too small');
    this.maxInFlight = o.maxInFlight ?? 4;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1 || this.maxInFlight > MAX_PRODUCER_IN_FLIGHT) {
      throw new Error(`maxInFlight must be between 1 and ${MAX_PRODUCER_IN_FLIGHT}: ${o.maxInFlight}`);
    }
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.coalescer = new Coalescer(o.coalesceWindowMs ?? DEFAULT_COALESCE_WINDOW_MS, this.maxDeltaBytes, SYSTEM_CLOCK,
      (b) => this.sendHeld(b));
  }

  /**
   * Returns the running agent. The WebSocket connects first (retrying with backoff until it works);
   * HTTP has nothing to open, so a wrong URL or token shows in the first request.
   */
  static async connect(o: DurableAgentOptions): Promise<DurableAgent> {
    const scheme = /^([a-z]+):\/\//i.exec(o.url)?.[1]?.toLowerCase();
    if (!scheme || !['ws', 'wss', 'http', 'https'].includes(scheme)) {
      throw new Error(`url must be ws://, wss:// (WebSocket), http:// or https:// (HTTP API): ${o.url}`);
    }
    const a = new DurableAgent(o);
    const sink = (e: any) => a.onControlEvent(e);
    const requestTimeoutMs = o.requestTimeoutMs ?? 10000;
    a.transport = scheme.startsWith('http')
      ? new HttpAgentTransport({ baseUrl: o.url, sessionId: o.sessionId, bearerToken: o.bearerToken ?? (() => null),
                                 headers: o.headers, fetch: o.fetch ?? globalThis.fetch.bind(globalThis),
                                 requestTimeoutMs, sink })
      : new WsAgentTransport({ url: o.url, sessionId: o.sessionId, connectQuery: o.connectQuery ?? (() => ''),
                               protocols: o.protocols, WebSocket: o.WebSocket ?? await defaultWebSocket(),
                               requestTimeoutMs, maxConnectionAgeMs: o.maxConnectionAgeMs ?? 110 * 60 * 1000,
                               backoff: a.backoff, sink, log: o.log ?? ((m) => console.warn(`durable agent: ${m}`)),
                               deliver: o.deliverInbound });
    await a.transport.start();
    a.loop = a.sendLoop();
    const hb = o.heartbeatIntervalMs ?? 5000;
    a.heartbeatTimer = unref(setInterval(() => a.heartbeatTick(), hb));
    return a;
  }

  // ----------------------------------------------------------------------------- public API

  /** Opens a run (`run.started`) and waits for the ack; throws if the service refuses (e.g. RUN_EXISTS). */
  async startRun(runId: string, { parentRunId }: { parentRunId?: string } = {}): Promise<Run> {
    if (this.closed) throw new Error('agent closed');
    if (this.runs.has(runId)) throw new Error(`run ${runId} was started already`);
    const run = new Run(this, runId);
    this.runs.set(runId, { run, fenced: false, stopAcked: false, notified: false, currentReply: null, lastControlSeq: 0,
                           handledControlSeq: 0, wroteSinceTick: false, controller: new AbortController(), replies: new Map() });
    const r = await this.enqueue('run.started', runId, null, parentRunId ? { parentRunId } : {}).promise;
    if (r.error) { this.runs.delete(runId); throw r.error; }
    if (!r.ok) throw new DurableSessionError('RUN_FENCED', `run ${runId} could not start`);
    return run;
  }

  /** Appends an event that is not part of a run (e.g. `agent.joined`, `custom`). */
  async append(type: string, data: Record<string, unknown>): Promise<boolean> {
    return (await this.enqueue(type, null, null, data).promise).ok;
  }

  /** Sends everything coalesced so far and waits until every append so far is settled. */
  async flush(): Promise<boolean> {
    this.flushBuffers();
    const last = this.queue[this.queue.length - 1];
    const ok = last ? (await last.promise).ok : true;
    while (this.slots.size > 0 || this.renumbered.length > 0 || this.queue.length > 0) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    return ok;
  }

  /** Drops the WebSocket connection as a network cut would; the SDK reconnects and re-sends. No-op over HTTP. */
  dropConnection(): void {
    this.transport.drop();
  }

  /** Flushes, then closes the connection. Further writes throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    // the bound on the flush must not outlive it: a pending timer would keep a Node process that
    // closed its agent alive for up to requestTimeoutMs
    let bound: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([this.flush(), new Promise<void>((r) => { bound = setTimeout(r, this.o.requestTimeoutMs ?? 10000); })]);
    } finally {
      clearTimeout(bound);
      this.closed = true;
      clearInterval(this.heartbeatTimer);
      this.coalescer.clear();
      for (const p of this.queue.splice(0)) this.settle(p, { ok: false });
      for (const b of this.renumbered.splice(0)) b.forEach((p) => this.settle(p, { ok: false }));
      for (const w of this.slotWaiters.splice(0)) w();
      this.wake?.();
      this.transport.close();
      await this.callbacks;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------------- used by Run/Reply

  /** @internal */
  entry(runId: string): RunEntry | undefined {
    return this.runs.get(runId);
  }

  /** @internal */
  isRunFenced(runId: string | null): boolean {
    return !!runId && !!this.runs.get(runId)?.fenced;
  }

  /** @internal */
  isMessageFenced(messageId: string): boolean {
    return this.fencedMessages.has(messageId);
  }

  /** @internal Queues one event (sending coalesced text first, so the log keeps the order of the calls); never throws. */
  enqueue(type: string, runId: string | null, messageId: string | null, data: Record<string, any>,
          bypassFence = false): Pending {
    const p = pending(type, runId, messageId, null, data, bypassFence);
    if (this.closed) { p.resolve({ ok: false }); return p; } // nothing is written after close()
    this.flushBuffers();
    if (this.producerFenced) p.resolve({ ok: false, error: this.producerFenced });
    else this.push(p);
    return p;
  }

  /** @internal Holds a reply's `message.start`: it is sent with the reply's first text, or a window from now. */
  holdStart(runId: string, messageId: string, data: Record<string, any>): void {
    if (this.closed) return; // nothing is written after close()
    this.flushBuffers(); // what was written before goes first
    this.coalescer.start(replyKey(messageId), runId, data);
  }

  /** @internal Adds streamed text to its buffer: sent within the window, or at once when big. */
  delta(type: 'text.delta' | 'reasoning.delta' | 'tool.input.delta', runId: string, messageId: string,
        data: Record<string, any>, text: string): void {
    if (!text || this.closed) return;
    if (this.isRunFenced(runId) || this.fencedMessages.has(messageId)) return;
    const key = type === 'tool.input.delta' ? `t:${data.toolCallId}` : replyKey(messageId);
    this.coalescer.add(key, type, runId, data, text);
  }

  /** @internal */
  setCurrentReply(runId: string, reply: Reply): void {
    const s = this.runs.get(runId);
    if (s) { s.currentReply = reply.messageId; s.replies.set(reply.messageId, reply); }
  }

  /** @internal The run ended by our own hand (completed or failed): nothing more is written for it. */
  markDone(runId: string): void {
    const s = this.runs.get(runId);
    if (s) { s.fenced = true; s.notified = true; }
  }

  // ---------------------------------------------------------------------------- internals

  private push(p: Pending): void {
    this.queue.push(p);
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private flushBuffers(): void {
    this.coalescer.flushAll();
  }

  /** The coalescer hands on a reply's held start and (or) a reply's or tool call's held text. */
  private sendHeld(b: HeldText): void {
    const messageId = b.data.messageId as string;
    if (this.isRunFenced(b.runId) || this.fencedMessages.has(messageId)) return;
    if (b.start) this.push(pending('message.start', b.runId, messageId, null, b.start, false));
    if (!b.text) return;
    for (const chunk of splitText(b.text, this.maxDeltaBytes)) {
      this.push(pending(b.type, b.runId, messageId, `${b.type}|${b.key}`, { ...b.data, text: chunk }, false));
    }
  }

  private settle(p: Pending, r: Result): void {
    p.resolve(r);
    for (const f of p.followers) f.resolve(r);
  }

  /**
   * Takes the next append and sends it under the next producer seq while fewer than maxInFlight are on
   * their way. The service stores a producer's appends in seq order, holding one whose predecessors are
   * still travelling; so when one is settled without being stored (its run fenced, say), the ones after it
   * cannot be stored either: nothing new goes out until they are all answered, and then they go again
   * under new seqs, from the one that was not stored.
   */
  private async sendLoop(): Promise<void> {
    while (!this.closed) {
      const work = this.renumbered.length > 0 || this.queue.length > 0;
      if (!work || this.brokenAt >= 0 || this.slots.size >= this.maxInFlight) {
        if (!work && this.slots.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        await new Promise<void>((r) => { this.wake = r; });
        continue;
      }
      const batch = this.unfenced(this.renumbered.length > 0 ? this.renumbered.shift()! : this.takeBatch());
      if (batch.length === 0) continue;
      const seq = this.nextSendSeq++;
      const slot: Slot = { batch, settled: null };
      this.slots.set(seq, slot);
      void this.sendSlot(seq, slot);
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async sendSlot(seq: number, slot: Slot): Promise<void> {
    let settled: Settled;
    try {
      settled = await this.send(seq, slot.batch);
    } catch (e) {
      const err = e instanceof DurableSessionError ? e : new DurableSessionError('INTERNAL', String((e as Error)?.message ?? e));
      slot.batch.forEach((p) => this.settle(p, { ok: false, error: err }));
      settled = 'not_stored';
    }
    slot.settled = settled;
    if (settled === 'forgotten') this.forgotten = true;
    if (settled !== 'stored' && (this.brokenAt < 0 || seq < this.brokenAt)) this.brokenAt = seq;
    // the bottom of the pipeline is stored: those seqs are done with
    for (const [k, x] of this.slots) {
      if (x.settled !== 'stored') break;
      this.slots.delete(k);
      this.storedThrough = k;
    }
    if (this.brokenAt >= 0 && [...this.slots.values()].every((x) => x.settled !== null)) {
      // all answered: the seqs from brokenAt on are free again, and what was refused behind the unstored one
      // goes again under them, in its order
      const again = [...this.slots.values()]
        .filter((x) => x.settled === 'renumber' || x.settled === 'forgotten').map((x) => x.batch);
      this.renumbered = [...again, ...this.renumbered];
      this.nextSendSeq = this.forgotten ? 0 : this.brokenAt;
      this.storedThrough = this.nextSendSeq - 1;
      this.forgotten = false;
      this.slots.clear();
      this.brokenAt = -1;
    }
    for (const w of this.slotWaiters.splice(0)) w();
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * PRODUCER_GAP: the service waited for an earlier seq in vain. Waits until every earlier seq in flight is
   * answered: true if all were stored (this one just came early: it goes again as it is), false if one was
   * not (this one goes again under another seq).
   */
  private async predecessorsStored(seq: number): Promise<boolean> {
    while (!this.closed) {
      let open = false;
      for (const [k, x] of this.slots) if (k < seq && x.settled === null) open = true;
      if (!open) return !(this.brokenAt >= 0 && this.brokenAt < seq);
      await new Promise<void>((r) => this.slotWaiters.push(r));
    }
    return false;
  }

  /** The batch without what was fenced meanwhile (those settle as not written). */
  private unfenced(batch: Pending[]): Pending[] {
    return batch.filter((p) => {
      const fenced = !p.bypassFence && ((this.isRunFenced(p.runId) && p.type !== 'run.started')
        || (p.messageId !== null && this.fencedMessages.has(p.messageId)));
      if (fenced) this.settle(p, { ok: false });
      return !fenced;
    });
  }

  /** Consecutive events of the same run, within the per-append limits; deltas of one stream are merged. */
  private takeBatch(): Pending[] {
    const first = this.queue.shift()!;
    const batch = [first];
    let bytes = size(first);
    while (this.queue.length > 0 && batch.length < MAX_EVENTS_PER_APPEND) {
      const next = this.queue[0];
      if (next.runId !== first.runId) break;
      const prev = batch[batch.length - 1];
      const s = size(next);
      if (prev.mergeKey !== null && prev.mergeKey === next.mergeKey
          && encodedBytes(prev.data.text) + encodedBytes(next.data.text) <= this.maxDeltaBytes) {
        this.queue.shift();
        prev.data = { ...prev.data, text: prev.data.text + next.data.text };
        prev.followers.push(next); // rides on prev: same outcome
        bytes += s;
        continue;
      }
      if (bytes + s > APPEND_BUDGET) break;
      batch.push(this.queue.shift()!);
      bytes += s;
    }
    return batch;
  }

  /** Sends one batch under one producer seq until the service answered it for good. */
  private async send(seq: number, initial: Pending[]): Promise<Settled> {
    let batch = initial;
    let attempt = 0;
    let resent = false; // an earlier attempt of this seq got no answer: it may be stored
    let gapResends = 0;
    while (!this.closed) {
      // an earlier seq was settled unstored: the service cannot store this one (nor did it, even if an
      // answer was lost: it stores in seq order), so it goes again under another seq
      if (this.brokenAt >= 0 && this.brokenAt < seq) return 'renumber';
      // what was fenced meanwhile is dropped. Not after a lost answer: that attempt may be stored under this
      // producer seq, so the seq goes again with exactly its events (the service then acks it as a duplicate,
      // or refuses it: nothing stored). A heartbeat finding the run completed by that very attempt must not
      // turn it into another batch — or into none, settling a stored run.completed as not written.
      if (!resent) {
        batch = this.unfenced(batch);
        if (batch.length === 0) return 'not_stored';
      }
      const runId = batch[0].runId;
      const append: Record<string, unknown> = {
        producer: { id: this.producerId, epoch: this.epoch, seq },
        events: batch.map((p) => ({ type: p.type, data: p.data })),
      };
      if (runId) append.runId = runId;
      const traceparent = this.o.traceparent?.();
      if (traceparent !== undefined && isTraceparent(traceparent)) append.traceparent = traceparent;
      const started = Date.now();
      // acked before this attempt left: the service stored it before it could have seen this one
      const ackedBefore = this.storedThrough >= 0;
      const o = await this.transport.append(append);
      if (o.kind === 'lost') {
        if (this.closed) break;
        this.stats.retries++; // lost ack, response or connection: the same producer seq again
        resent = true;
        // the first re-send goes at once; later ones are paced from the attempt's start
        if (attempt > 0) await sleep(backoffDelay(this.backoff, attempt - 1) - (Date.now() - started));
        attempt++;
        continue;
      }
      if (o.kind === 'acked') {
        if (o.duplicate) this.stats.duplicateAcks++;
        this.stats.appendsAcked++;
        const s = runId ? this.runs.get(runId) : undefined;
        if (s) s.wroteSinceTick = true;
        batch.forEach((p) => this.settle(p, { ok: true }));
        return 'stored';
      }
      if (o.code === 'PRODUCER_GAP' && gapResends < 3) {
        // the service stored our seq 0 and now expects 0 again: it knows nothing of this producer, its session
        // was erased (and may begin again). Without that ack, seq 0 may just be late.
        if (seq > 0 && ackedBefore && o.details.expectedSeq === 0) return 'forgotten';
        // an earlier seq of ours was late or not stored: settle that first
        if (!(await this.predecessorsStored(seq))) return this.closed ? 'not_stored' : 'renumber';
        gapResends++;
        this.stats.retries++;
        continue;
      }
      if (isRetryable(o.code)) {
        this.stats.retries++;
        await sleep(Math.max(o.retryAfterMs, backoffDelay(this.backoff, attempt++)));
      } else if (stopStillBeingRecorded(o, batch) && attempt < 6) {
        // we learned of the stop while the service had claimed it but not yet recorded it; our
        // acknowledgement overtook it: again shortly, nothing was written
        await sleep(backoffDelay(this.backoff, attempt++));
      } else {
        const settled = this.refused(o, batch, resent);
        if (settled) return settled;
        // refused: nothing is stored under this seq (the service answers a stored seq as a duplicate before it
        // looks at fences), so what was fenced may be dropped from the next attempt
        resent = false;
      }
    }
    batch.forEach((p) => this.settle(p, { ok: false })); // closed
    return 'not_stored';
  }

  /** Settles a batch the service refused for good; null when the rest goes again (same producer seq). */
  private refused(r: Refused, batch: Pending[], resent: boolean): Settled | null {
    const runId = batch[0].runId;
    const error = new DurableSessionError(r.code, r.message, { code: r.code, message: r.message, details: r.details });
    switch (r.code) {
      case 'MESSAGE_FENCED': {
        const m = typeof r.details.messageId === 'string' ? r.details.messageId : null;
        const ids = m ? [m] : batch.filter((p) => p.messageId).map((p) => p.messageId!);
        for (const id of ids) this.fenceMessage(runId, id);
        return null; // nothing was written: the rest goes again with the same producer seq
      }
      case 'RUN_FENCED': {
        const state = String(r.details.state ?? '');
        const last = batch[batch.length - 1];
        if (resent && ((state === 'completed' && last.type === 'run.completed')
            || (state === 'failed' && last.type === 'run.failed'))) {
          // our own earlier attempt ended the run and its ack was lost
          batch.forEach((p) => this.settle(p, { ok: true }));
          return 'stored';
        }
        if (runId) this.fenced(runId, state, undefined, 0, undefined);
        batch.forEach((p) => this.settle(p, { ok: false }));
        return 'not_stored';
      }
      case 'STALE_EPOCH':
        this.producerFenced = error;
        batch.forEach((p) => this.settle(p, { ok: false, error }));
        this.reportError(error);
        return 'not_stored';
      case 'INVALID_TRANSITION':
        if (batch.every((p) => p.bypassFence)) { batch.forEach((p) => this.settle(p, { ok: false })); return 'not_stored'; }
        batch.forEach((p) => this.settle(p, { ok: false, error }));
        this.reportError(error);
        return 'not_stored';
      default:
        batch.forEach((p) => this.settle(p, { ok: false, error }));
        this.reportError(error);
        return 'not_stored';
    }
  }

  private reportError(e: DurableSessionError): void {
    try { this.o.onError?.(e); } catch { /* the owner's handler must not break the SDK */ }
  }

  /** Every open run that wrote nothing since the last tick sends a heartbeat (over HTTP it also brings its control). */
  private heartbeatTick(): void {
    if (this.closed) return;
    this.transport.maintain();
    for (const [runId, s] of this.runs) {
      if (s.fenced) continue;
      if (s.wroteSinceTick) { s.wroteSinceTick = false; continue; }
      void this.transport.heartbeat(runId).then((o) => {
        // "running" while refused: a stop is being recorded; its event (or the next tick) says more
        if (o.kind === 'refused' && o.code === 'RUN_FENCED' && o.details.state && o.details.state !== 'running') {
          this.fenced(runId, String(o.details.state), undefined, 0, undefined);
        }
      }).catch(() => {});
    }
  }

  // -------------------------------------------------------------------------------- control

  /** A control event from the transport: at least once, in seq order per run. */
  private onControlEvent(e: any): void {
    const seq = Number(e?.seq ?? 0);
    const runId: string | undefined = e?.runId;
    const s = runId ? this.runs.get(runId) : undefined;
    if (!s || !runId) return; // not one of ours
    if (seq <= s.lastControlSeq) {
      // a repeat; if its callbacks ran already, the acknowledgement was lost or is on its way
      if (seq <= s.handledControlSeq) this.transport.acknowledge(runId, s.handledControlSeq);
      return;
    }
    s.lastControlSeq = seq;
    const data = e.data ?? {};
    switch (e.type) {
      case 'run.stop_requested': this.fenced(runId, 'stop_requested', data.reason, seq, e); break;
      case 'run.stopped': this.fenced(runId, 'stopped', data.reason, seq, e); break;
      case 'run.interrupted': {
        const m: string | null = typeof data.messageId === 'string' ? data.messageId : s.currentReply;
        if (m) this.fenceMessage(runId, m);
        this.notify({ kind: 'interrupt', runId, messageId: m ?? undefined, seq, event: e });
        break;
      }
      case 'run.steered': this.notify({ kind: 'steer', runId, text: data.text, seq, event: e }); break;
      default:
    }
    // after the callbacks above (in order): acknowledged only once obeyed
    this.onCallbackChain(() => {
      s.handledControlSeq = Math.max(s.handledControlSeq, seq);
      this.transport.acknowledge(runId, seq);
    });
  }

  private fenceMessage(runId: string | null, messageId: string): void {
    this.fencedMessages.add(messageId);
    this.coalescer.drop((b) => b.data.messageId === messageId);
    const reply = runId ? this.runs.get(runId)?.replies.get(messageId) : undefined;
    reply?.abort('interrupted');
  }

  /** A run of ours is fenced: stop writing it, acknowledge a requested stop, tell the owner once. */
  private fenced(runId: string, state: string, reason: string | undefined, seq: number, event: any): void {
    const s = this.runs.get(runId);
    if (!s) return;
    const wasOpen = !s.fenced;
    s.fenced = true;
    const ack = state === 'stop_requested' && !s.stopAcked;
    if (ack) s.stopAcked = true;
    // the agent's own run.completed / run.failed ends the run in that state: a fence in it (a heartbeat's answer
    // that overtook the end's own ack, say) is nothing to tell
    const ours = s.ending === state;
    const tell = !s.notified && (wasOpen || ack) && !ours;
    if (tell || ours) s.notified = true;
    this.coalescer.drop((b) => b.runId === runId);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const p = this.queue[i];
      if (p.runId === runId && !p.bypassFence) { this.queue.splice(i, 1); this.settle(p, { ok: false }); }
    }
    if (ack && !this.closed) this.push(pending('run.stop_acknowledged', runId, null, null, {}, true));
    const stop = state === 'stop_requested' || state === 'stopped';
    if (!s.controller.signal.aborted) s.controller.abort(new RunFencedError(runId, state, reason));
    for (const r of s.replies.values()) r.abort(stop ? 'stopped' : state);
    if (tell) this.notify({ kind: stop ? 'cancel' : 'fenced', runId, text: reason, state, seq, event });
  }

  private notify(e: ControlEvent): void {
    const handler = this.o.onControl;
    if (handler) this.onCallbackChain(() => handler(e));
  }

  private onCallbackChain(fn: () => void | Promise<void>): void {
    this.callbacks = this.callbacks.then(async () => {
      try { await fn(); } catch { /* the owner's handler must not break the SDK */ }
    });
  }
}

/** Why a run's `signal` aborted: it was stopped by a client, or ended otherwise. */
export class RunFencedError extends Error {
  constructor(readonly runId: string, readonly state: string, readonly reason?: string) {
    super(`run ${runId} is ${state}${reason ? `: ${reason}` : ''}`);
    this.name = 'AbortError';
  }
}

/** One run of an agent. */
export class Run {
  /** @internal */
  constructor(private readonly agent: DurableAgent, readonly runId: string) {}

  /** Aborts when the run is stopped (a client's cancel) or fenced otherwise: pass it to the model call. */
  get signal(): AbortSignal {
    return this.agent.entry(this.runId)!.controller.signal;
  }

  /** True once the run is stopped, completed or failed: nothing more is written for it. */
  get isFenced(): boolean {
    return this.agent.isRunFenced(this.runId) || !this.agent.entry(this.runId);
  }

  /** Starts a reply (`message.start`, role assistant by default). */
  startReply(messageId: string, { role = 'assistant' }: { role?: 'assistant' | 'system' } = {}): Reply {
    const reply = new Reply(this.agent, this, messageId);
    this.agent.setCurrentReply(this.runId, reply);
    this.agent.holdStart(this.runId, messageId, { messageId, role }); // goes with the reply's first text
    return reply;
  }

  /** A tool call of the run that names no message (`tool.call`). */
  async toolCall(toolCallId: string, name: string, args: unknown): Promise<boolean> {
    const d = { toolCallId, name, arguments: args ?? {} };
    return (await this.agent.enqueue('tool.call', this.runId, null, d).promise).ok;
  }

  async toolResult(toolCallId: string, result: unknown, { isError = false }: { isError?: boolean } = {}): Promise<boolean> {
    const d: Record<string, unknown> = { toolCallId, result: result ?? null };
    if (isError) d.isError = true;
    return (await this.agent.enqueue('tool.result', this.runId, null, d).promise).ok;
  }

  /** Any other event of this run (`custom`, …). */
  async append(type: string, data: Record<string, unknown>): Promise<boolean> {
    return (await this.agent.enqueue(type, this.runId, null, data).promise).ok;
  }

  /**
   * `run.completed`; false if the run was fenced first. Waits for the ack. A reply of the run not ended yet
   * is ended (`message.end`) in the same append, with its last text: `run.complete()` alone finishes a run's
   * last reply in one append, where `reply.end(); run.complete()` takes two.
   */
  async complete(): Promise<boolean> {
    return this.end('run.completed', {}, undefined);
  }

  /** `run.failed`; false if the run was fenced first. Waits for the ack. A reply not ended yet is ended with reason `error` in the same append. */
  async fail(reason: string): Promise<boolean> {
    return this.end('run.failed', { reason: reason.slice(0, 1024) }, 'error');
  }

  private async end(type: string, data: Record<string, unknown>, replyReason: 'error' | undefined): Promise<boolean> {
    if (this.isFenced) return false;
    const entry = this.agent.entry(this.runId);
    if (entry) entry.ending = type === 'run.completed' ? 'completed' : 'failed';
    // queued in the same turn as the run's end, so the sender takes them (and the held text) as one append
    for (const reply of entry?.replies.values() ?? []) reply.queueEnd(replyReason);
    const r = await this.agent.enqueue(type, this.runId, null, data).promise;
    if (r.ok) this.agent.markDone(this.runId);
    if (r.error) throw r.error;
    return r.ok;
  }
}

/** One reply (message) of a run: text, reasoning, parts and tool calls, in the order written. */
export class Reply {
  private readonly controller = new AbortController();
  private ended = false;

  /** @internal */
  constructor(private readonly agent: DurableAgent, readonly run: Run, readonly messageId: string) {}

  /** Aborts when this reply is interrupted or its run is fenced. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the reply or its run was fenced (interrupted, stopped, …). */
  get isFenced(): boolean {
    return this.agent.isMessageFenced(this.messageId) || this.run.isFenced;
  }

  /** @internal */
  abort(reason: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunFencedError(this.run.runId, reason));
  }

  /** Adds text. Never blocks: coalesced and sent within the window. Ignored once fenced. */
  text(delta: string): void {
    if (this.ended) return;
    this.agent.delta('text.delta', this.run.runId, this.messageId, { messageId: this.messageId }, delta);
  }

  /** Adds reasoning text, coalesced as text. */
  reasoning(delta: string): void {
    if (this.ended) return;
    this.agent.delta('reasoning.delta', this.run.runId, this.messageId, { messageId: this.messageId }, delta);
  }

  /** Adds a part: a source, file, data part or step boundary (docs/protocol.md §4.2). */
  async part(part: MessagePart): Promise<boolean> {
    return this.write('message.part', { messageId: this.messageId, part });
  }

  /** A tool call of this reply whose input streams (`tool.input.start`). */
  async toolInputStart(toolCallId: string, name: string, { dynamic = false }: { dynamic?: boolean } = {}): Promise<boolean> {
    const d: Record<string, unknown> = { toolCallId, messageId: this.messageId, name };
    if (dynamic) d.dynamic = true;
    return this.write('tool.input.start', d);
  }

  /** The next piece of a tool call's raw input, coalesced as text. */
  toolInputDelta(toolCallId: string, delta: string): void {
    if (this.ended) return;
    this.agent.delta('tool.input.delta', this.run.runId, this.messageId, { toolCallId, messageId: this.messageId }, delta);
  }

  /** The tool call's complete input (`tool.call`). */
  async toolCall(toolCallId: string, name: string, input: unknown, { dynamic = false }: { dynamic?: boolean } = {}): Promise<boolean> {
    const d: Record<string, unknown> = { toolCallId, messageId: this.messageId, name, arguments: input ?? null };
    if (dynamic) d.dynamic = true;
    return this.write('tool.call', d);
  }

  /** The tool call's output (`tool.result`); `isError`: the output is the error text. */
  async toolResult(toolCallId: string, output: unknown, { isError = false }: { isError?: boolean } = {}): Promise<boolean> {
    const d: Record<string, unknown> = { toolCallId, messageId: this.messageId, result: output ?? null };
    if (isError) d.isError = true;
    return this.write('tool.result', d);
  }

  /** `message.end` (`complete`, `interrupted` or `error`); false if the reply was fenced. Waits for the ack. */
  async end(reason?: 'complete' | 'interrupted' | 'error'): Promise<boolean> {
    const p = this.queueEnd(reason);
    if (!p) return false;
    const r = await p.promise;
    if (r.error) throw r.error;
    return r.ok;
  }

  /** @internal Queues `message.end` once; null when the reply was ended already, or fenced (its end would be refused). */
  queueEnd(reason?: 'complete' | 'interrupted' | 'error'): Pending | null {
    if (this.ended) return null;
    this.ended = true;
    if (this.isFenced) return null;
    const d: Record<string, unknown> = { messageId: this.messageId };
    if (reason) d.reason = reason;
    return this.agent.enqueue('message.end', this.run.runId, this.messageId, d);
  }

  private async write(type: string, data: Record<string, unknown>): Promise<boolean> {
    if (this.ended || this.isFenced) return false;
    return (await this.agent.enqueue(type, this.run.runId, this.messageId, data).promise).ok;
  }
}

function pending(type: string, runId: string | null, messageId: string | null, mergeKey: string | null,
                 data: Record<string, any>, bypassFence: boolean): Pending {
  let resolve!: (r: Result) => void;
  const promise = new Promise<Result>((r) => { resolve = r; });
  return { type, runId, messageId, mergeKey, data, bypassFence, followers: [], resolve, promise };
}

function size(p: Pending): number {
  return encodedBytes(JSON.stringify({ type: p.type, data: p.data }));
}

function stopStillBeingRecorded(r: Refused, batch: Pending[]): boolean {
  return r.code === 'INVALID_TRANSITION' && r.details.state === 'running'
    && batch.every((p) => p.type === 'run.stop_acknowledged');
}

/** A W3C traceparent the service accepts: version-traceid-parentid-flags, lower-case hex, ids not all zeros. */
function isTraceparent(s: string): boolean {
  return /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(s) && !s.startsWith('ff')
    && !/^0+$/.test(s.slice(3, 35)) && !/^0+$/.test(s.slice(36, 52));
}
