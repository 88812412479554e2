// The streamed text of an agent's replies and tool calls, held for the coalescing window: the Java
// SDK's ReplyCoalescer, checked against the same fixture (fixtures/coalescing.json).
//
// A key (a reply, or a tool call's input) sends its text at most once per window. Text after a quiet
// window (the first of a reply, the first after a tool call) goes at once: a reply starts on screen in
// the transport's time, not the window's. Text that comes sooner waits until a window after the key's
// last send, so nothing waits longer than the window and a steady stream costs one append per window
// plus one. A change of kind (reasoning, then text) sends what was held first; a window of 0, or held
// text of maxBytes, sends at once. A reply's message.start is held too: it goes with the reply's first
// text (at once), with whatever else is appended first, or a window after the reply started, so a
// reply's start and its first words are one append, not two.
import { encodedBytes } from './text.js';

export interface HeldText {
  key: string;
  type: string;
  runId: string;
  /** Everything of the event but its text (messageId, toolCallId). */
  data: Record<string, any>;
  /** The reply's held `message.start` data, sent before the text; null when none is held. */
  start: Record<string, any> | null;
  /** May be empty when only a start is sent. */
  text: string;
}

interface Held extends HeldText {
  bytes: number;
  cancels: (() => void)[];
}

export interface CoalescerClock {
  /** Milliseconds, monotonic enough for windows. */
  now(): number;
  /** Runs `fn` after `ms`; returns what cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const SYSTEM_CLOCK: CoalescerClock = {
  now: () => performance.now(),
  schedule: (fn, ms) => {
    const t = setTimeout(fn, ms);
    (t as any)?.unref?.(); // a window never keeps a Node process alive
    return () => clearTimeout(t);
  },
};

export class Coalescer {
  private readonly held = new Map<string, Held>();
  /** When each key last sent (ms), oldest first; only keys that sent within the last window. */
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly window: number,
    private readonly maxBytes: number,
    private readonly clock: CoalescerClock,
    private readonly send: (text: HeldText) => void,
  ) {}

  /** Holds a reply's `message.start` (its data): it goes with the reply's first text, or a window from now. */
  start(key: string, runId: string, data: Record<string, any>): void {
    const h = this.hold(key, runId, data);
    h.start = data;
    if (this.window <= 0) this.flush(key);
    else this.schedule(h, this.window);
  }

  add(key: string, type: string, runId: string, data: Record<string, any>, text: string): void {
    if (!text) return;
    const before = this.held.get(key);
    if (before?.text && before.type !== type) this.flush(key); // reasoning then text: keep the order
    const h = this.hold(key, runId, data);
    h.type = type;
    h.data = data;
    const first = h.text === '';
    h.text += text;
    h.bytes += encodedBytes(text);
    if (this.window <= 0 || h.bytes >= this.maxBytes) {
      this.flush(key);
    } else if (first) {
      const now = this.clock.now();
      for (const [k, at] of this.lastSent) { // oldest first: stop at the first still in its window
        if (now - at < this.window) break;
        this.lastSent.delete(k);
      }
      const last = this.lastSent.get(key);
      if (last === undefined) this.flush(key); // quiet for a window: the leading edge goes at once
      else this.schedule(h, last + this.window - now);
    }
  }

  /** The key's holding, begun now if nothing is held. */
  private hold(key: string, runId: string, data: Record<string, any>): Held {
    let h = this.held.get(key);
    if (!h) {
      h = { key, type: '', runId, data, start: null, text: '', bytes: 0, cancels: [] };
      this.held.set(key, h);
    }
    return h;
  }

  private schedule(h: Held, ms: number): void {
    h.cancels.push(this.clock.schedule(() => { if (this.held.get(h.key) === h) this.flush(h.key); }, ms));
  }

  /** Sends the key's held text now. */
  flush(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    h.cancels.forEach((cancel) => cancel());
    if (!h.text && !h.start) return;
    if (h.text) {
      this.lastSent.delete(key); // re-inserted last: the map stays in order of sending
      this.lastSent.set(key, this.clock.now());
    }
    this.send({ key: h.key, type: h.type, runId: h.runId, data: h.data, start: h.start, text: h.text });
  }

  /** Sends every key's held text, in the order it was first held (another event goes after it). */
  flushAll(): void {
    for (const key of [...this.held.keys()]) this.flush(key);
  }

  /** Forgets the held text that `drop` picks (a fenced run or reply). */
  drop(drop: (h: HeldText) => boolean): void {
    for (const h of [...this.held.values()]) {
      if (drop(h)) { h.cancels.forEach((cancel) => cancel()); this.held.delete(h.key); }
    }
  }

  /** Forgets everything held (the agent closed). */
  clear(): void {
    this.drop(() => true);
  }
}
