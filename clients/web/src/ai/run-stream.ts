// A run's reply, read from the session, as a stream of AI SDK UI message chunks: first what the
// session already holds (the assembled message, so a reload or a second tab replays it), then each
// live event as it is applied. Ends when the reply ends: `finish`, `abort` (stopped or
// interrupted) or `error` (the run failed).
import type { UIMessageChunk } from 'ai';
import { type MessageB, toolItem } from '../assembler.js';
import type { DurableSession } from '../session.js';
import type { MessageItem, SessionEvent, StoredPart, ToolCallItem } from '../types.js';
import { errorText, reasoningPartId } from './ui-messages.js';

type Chunk = UIMessageChunk;

export interface RunStreamOptions {
  /** How long to wait for the run (and its reply) to start. */
  startTimeoutMs: number;
  /** Called once when the stream ends for any reason. */
  onEnd?: () => void;
}

interface ToolState { name: string; dynamic: boolean }

export class RunStream {
  readonly stream: ReadableStream<Chunk>;
  private controller!: ReadableStreamDefaultController<Chunk>;
  private messageId: string | null = null;
  private open: { kind: 'text' | 'reasoning'; id: string } | null = null;
  private texts = 0;
  private reasonings = 0;
  private steps = 0;
  private readonly tools = new Map<string, ToolState>();
  private errorPending = false;
  private finished = false;
  private readonly unsubscribe: (() => void)[] = [];
  private startTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly session: DurableSession, private runId: string, private readonly o: RunStreamOptions) {
    this.stream = new ReadableStream<Chunk>({
      start: (c) => { this.controller = c; },
      cancel: () => this.end(),
    });
    // listen before reading the state: both happen in this same turn, so no event falls between
    this.unsubscribe.push(session.on('event', (e) => this.onEvent(e)));
    this.unsubscribe.push(session.on('deleted', () => this.fail('the session was deleted')));
    this.catchUp();
    if (!this.finished && !this.messageId) {
      this.startTimer = setTimeout(() => this.fail('the agent did not start its reply in time'), o.startTimeoutMs);
    }
  }

  get id(): string {
    return this.runId;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** The run to follow, when the service named another than the one proposed (nothing was read yet). */
  retarget(runId: string): void {
    if (runId === this.runId || this.messageId || this.finished) return;
    this.runId = runId;
    this.catchUp();
  }

  /** Stops reading (the consumer went away); the run itself is not touched. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.unsubscribe.forEach((u) => u());
    try { this.controller.close(); } catch { /* closed or errored already */ }
    this.o.onEnd?.();
  }

  // ------------------------------------------------------------------- what the session holds

  private catchUp(): void {
    const a = this.session.assembler;
    const run = a.runs.get(this.runId);
    if (!run) return; // not started yet: the live events bring it
    const message = this.replyOf(this.runId);
    if (message) {
      this.begin(message.messageId);
      const item = a.messageItem(message);
      const tools = new Map<string, ToolCallItem>();
      for (const t of a.tools.values()) tools.set(t.toolCallId, toolItem(t));
      this.replay(item, tools);
      for (const t of tools.values()) {
        // tool calls of the run written without a message (older agents) follow the reply
        if (!t.messageId && t.runId === this.runId && t.firstSeq > item.firstSeq) this.replayTool(t);
      }
      const status = a.messageStatus(message);
      if (status === 'complete') return this.finish();
      if (status === 'interrupted') return this.abort(run.state === 'running' ? 'interrupted' : 'stopped');
      if (status === 'error') {
        if (run.state === 'failed') return this.fail('the run failed');
        this.errorPending = true;
      }
    }
    if (run.state === 'stop_requested' || run.state === 'stopped') return this.abort('stopped');
    if (run.state === 'failed') return this.fail('the run failed');
    if (run.state === 'completed') return this.finish();
  }

  private replyOf(runId: string): MessageB | null {
    let first: MessageB | null = null;
    for (const m of this.session.assembler.messages.values()) {
      if (m.runId === runId && m.role === 'assistant' && (!first || m.firstSeq < first.firstSeq)) first = m;
    }
    return first;
  }

  private replay(m: MessageItem, tools: Map<string, ToolCallItem>): void {
    const streaming = m.status === 'streaming';
    const parts: StoredPart[] = m.parts ?? (m.text ? [{ type: 'text', length: m.text.length }] : []);
    let t = 0;
    let r = 0;
    parts.forEach((p, index) => {
      const last = streaming && index === parts.length - 1;
      if (p.type === 'text') {
        this.textDelta(m.text.slice(t, t + p.length));
        t += p.length;
        if (!last) this.closeOpen();
      } else if (p.type === 'reasoning') {
        this.reasoningDelta((m.reasoning ?? '').slice(r, r + p.length));
        r += p.length;
        if (!last) this.closeOpen();
      } else if (p.type === 'tool') {
        const tool = tools.get(p.toolCallId);
        if (tool) this.replayTool(tool);
      } else {
        this.part(p);
      }
    });
  }

  private replayTool(t: ToolCallItem): void {
    this.closeOpen();
    this.tools.set(t.toolCallId, { name: t.name, dynamic: !!t.dynamic });
    const dyn = t.dynamic ? { dynamic: true } : {};
    if (t.status === 'streaming') {
      this.emit({ type: 'tool-input-start', toolCallId: t.toolCallId, toolName: t.name, ...dyn });
      if (t.inputText) this.emit({ type: 'tool-input-delta', toolCallId: t.toolCallId, inputTextDelta: t.inputText });
      return;
    }
    this.emit({ type: 'tool-input-available', toolCallId: t.toolCallId, toolName: t.name, input: t.arguments, ...dyn });
    if (t.status === 'done') this.result(t.toolCallId, t.result, t.isError);
  }

  // ------------------------------------------------------------------------- live events

  private onEvent(e: SessionEvent): void {
    if (this.finished) return;
    const d = e.data ?? {};
    const ofRun = e.runId === this.runId;
    if (!this.messageId) {
      if (e.type === 'message.start' && ofRun && d.role === 'assistant') this.begin(d.messageId);
      else if (ofRun) this.runEvent(e);
      return;
    }
    const mine = d.messageId === this.messageId;
    switch (e.type) {
      case 'text.delta': if (mine) this.textDelta(d.text ?? ''); break;
      case 'reasoning.delta': if (mine) this.reasoningDelta(d.text ?? ''); break;
      case 'message.part': if (mine && d.part) this.part(d.part); break;
      case 'tool.input.start':
        if (mine) {
          this.closeOpen();
          this.tools.set(d.toolCallId, { name: d.name, dynamic: d.dynamic === true });
          this.emit({ type: 'tool-input-start', toolCallId: d.toolCallId, toolName: d.name, ...(d.dynamic === true ? { dynamic: true } : {}) });
        }
        break;
      case 'tool.input.delta':
        if (mine && this.tools.has(d.toolCallId)) this.emit({ type: 'tool-input-delta', toolCallId: d.toolCallId, inputTextDelta: d.text ?? '' });
        break;
      case 'tool.call':
        if (mine || (!d.messageId && ofRun)) {
          this.closeOpen();
          const known = this.tools.get(d.toolCallId);
          const dynamic = d.dynamic === true || !!known?.dynamic;
          this.tools.set(d.toolCallId, { name: d.name, dynamic });
          this.emit({ type: 'tool-input-available', toolCallId: d.toolCallId, toolName: d.name,
                      input: d.arguments ?? null, ...(dynamic ? { dynamic: true } : {}) });
        }
        break;
      case 'tool.result':
        if (this.tools.has(d.toolCallId)) this.result(d.toolCallId, d.result ?? null, d.isError === true);
        break;
      case 'message.end':
        if (mine) {
          const reason = d.reason ?? 'complete';
          if (reason === 'complete') this.finish();
          else if (reason === 'interrupted') this.abort('interrupted');
          else this.errorPending = true; // the run's failure says why
        }
        break;
      case 'run.interrupted':
        if (ofRun && (!d.messageId || d.messageId === this.messageId)) this.abort('interrupted');
        break;
      default:
        if (ofRun) this.runEvent(e);
    }
  }

  private runEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'run.stop_requested':
      case 'run.stopped':
      case 'run.stop_acknowledged':
        this.abort('stopped');
        break;
      case 'run.failed': this.fail(e.data?.reason || 'the run failed'); break;
      case 'run.completed':
        if (this.errorPending) this.fail('the reply failed');
        else this.finish();
        break;
      default:
    }
  }

  // ------------------------------------------------------------------------------ chunks

  private begin(messageId: string): void {
    this.messageId = messageId;
    if (this.startTimer) { clearTimeout(this.startTimer); this.startTimer = null; }
    this.emit({ type: 'start', messageId });
  }

  private textDelta(text: string): void {
    if (this.open?.kind !== 'text') {
      this.closeOpen();
      this.open = { kind: 'text', id: `${this.messageId}-text-${this.texts++}` };
      this.emit({ type: 'text-start', id: this.open.id });
    }
    if (text) this.emit({ type: 'text-delta', id: this.open.id, delta: text });
  }

  private reasoningDelta(text: string): void {
    if (this.open?.kind !== 'reasoning') {
      this.closeOpen();
      this.open = { kind: 'reasoning', id: reasoningPartId(this.messageId!, this.reasonings++) };
      this.emit({ type: 'reasoning-start', id: this.open.id });
    }
    if (text) this.emit({ type: 'reasoning-delta', id: this.open.id, delta: text });
  }

  private part(p: any): void {
    this.closeOpen();
    if (p.type === 'step-start') {
      if (this.steps++ > 0) this.emit({ type: 'finish-step' });
      this.emit({ type: 'start-step' });
      return;
    }
    this.emit(structuredClone(p));
  }

  private result(toolCallId: string, result: unknown, isError: boolean): void {
    if (isError) this.emit({ type: 'tool-output-error', toolCallId, errorText: errorText(result) });
    else this.emit({ type: 'tool-output-available', toolCallId, output: result });
  }

  private closeOpen(): void {
    if (!this.open) return;
    this.emit({ type: this.open.kind === 'text' ? 'text-end' : 'reasoning-end', id: this.open.id } as Chunk);
    this.open = null;
  }

  private finish(): void {
    if (this.finished) return;
    if (this.messageId) {
      this.closeOpen();
      if (this.steps > 0) this.emit({ type: 'finish-step' });
      this.emit({ type: 'finish' });
    }
    this.end();
  }

  private abort(reason: 'stopped' | 'interrupted'): void {
    if (this.finished) return;
    if (this.messageId) {
      this.closeOpen();
      this.emit({ type: 'abort', reason });
    }
    this.end();
  }

  private fail(text: string): void {
    if (this.finished) return;
    this.closeOpen();
    this.emit({ type: 'error', errorText: text });
    this.end();
  }

  private emit(c: Chunk): void {
    if (this.finished) return;
    try { this.controller.enqueue(c); } catch { /* the consumer is gone */ }
  }
}
