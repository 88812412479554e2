// The client rule of docs/protocol.md §7 without I/O — the same as the Java ClientRule in events/
// (checked against fixtures/sessions): keep `last`, drop seq ≤ last, apply last + 1, hold later
// events until the gap closes.
import type { SessionEvent } from './types.js';

export class ClientRule {
  private lastSeq: number;
  private readonly buffer = new Map<number, SessionEvent>();
  duplicates = 0;

  constructor(last = 0) {
    this.lastSeq = last;
  }

  /** The highest seq applied. */
  get last(): number {
    return this.lastSeq;
  }

  /** Moves `last` forward (a snapshot up to `headSeq` was applied); never back. */
  advanceTo(headSeq: number): void {
    this.lastSeq = Math.max(this.lastSeq, headSeq);
  }

  /** Holds a delivered event; false (and counted) if it duplicates one applied or held. */
  hold(e: SessionEvent): boolean {
    if (e.seq <= this.lastSeq || this.buffer.has(e.seq)) {
      this.duplicates++;
      return false;
    }
    this.buffer.set(e.seq, e);
    return true;
  }

  /** Hands the held events that are now next in order to `apply`; `last` is the event's seq meanwhile. */
  drain(apply: (e: SessionEvent) => void): void {
    for (const seq of [...this.buffer.keys()]) {
      if (seq <= this.lastSeq) { this.buffer.delete(seq); this.duplicates++; } // covered by a snapshot
    }
    for (;;) {
      const e = this.buffer.get(this.lastSeq + 1);
      if (!e) break;
      this.buffer.delete(e.seq);
      this.lastSeq = e.seq;
      apply(e);
    }
  }

  /** True while events wait behind a gap. */
  get hasGap(): boolean {
    return this.buffer.size > 0;
  }

  /** Seqs held behind a gap, ascending. */
  held(): number[] {
    return [...this.buffer.keys()].sort((a, b) => a - b);
  }

  /** Forgets what is held (a hydrate starts over from its snapshot). */
  clearHeld(): void {
    this.buffer.clear();
  }
}
