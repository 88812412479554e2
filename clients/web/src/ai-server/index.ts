// @durable-sessions/client/ai-server: pipes a Vercel AI SDK UI message stream (streamText(…)
// .toUIMessageStream(), or any UIMessageChunk stream) into a session as an agent. Every reader —
// the tab that asked, other tabs, a reload — then reads the reply from the session
// (`DurableChatTransport` in '/ai'), and a client's Stop aborts the model through `abortSignal`.
//
//   const reply = await streamToSession({ url, bearerToken: () => agentToken, sessionId, runId,
//     stream: ({ abortSignal }) => streamText({ model, messages, abortSignal }).toUIMessageStream() });
//   await reply.done;   // { status: 'completed' | 'stopped' | 'failed' | 'interrupted' }
import type { UIMessageChunk } from 'ai';
import { DurableAgent, type DurableAgentOptions, type Reply, type Run } from '../agent/agent.js';
import { isValidId, randomId } from '../session.js';

type ChunkSource = ReadableStream<UIMessageChunk> | AsyncIterable<UIMessageChunk>;

export interface StreamToSessionOptions extends Partial<Omit<DurableAgentOptions, 'sessionId' | 'producerId'>> {
  sessionId: string;
  /** The run to open (the transport proposes one in its request); default a new id. */
  runId?: string;
  parentRunId?: string;
  /** The reply's message id (default a new id; `ctx.messageId` can be the stream's `generateMessageId`). */
  messageId?: string;
  /** The producer id; default unique per run, so concurrent replies never fence each other. */
  producerId?: string;
  /** Reuse a connected agent (its url, auth and producer) instead of connecting one for this reply. */
  agent?: DurableAgent;
  /** The UI message stream, or a function that starts it with the run's abort signal. */
  stream: ChunkSource | ((ctx: { abortSignal: AbortSignal; runId: string; messageId: string }) => ChunkSource | Promise<ChunkSource>);
}

export type ReplyStatus = 'completed' | 'stopped' | 'failed' | 'interrupted';

export interface ReplyOutcome {
  status: ReplyStatus;
  /** The error text of a failed reply. */
  error?: string;
}

export interface SessionReply {
  runId: string;
  messageId: string;
  /** Aborts when a client stops the run (or it is fenced otherwise). */
  abortSignal: AbortSignal;
  /** Settles when the reply has ended in the session (never rejects). */
  done: Promise<ReplyOutcome>;
}

/**
 * Opens a run (waiting for `run.started` to be acked, so the run exists when this resolves), then
 * writes the stream's chunks as events in the background: text, reasoning and tool input coalesced
 * (the first text at once, then at most one append per 300 ms), tool calls and results, sources, files, data parts and step boundaries; `finish` ends
 * the reply and completes the run, `error` fails it. When a client stops the run, `abortSignal`
 * aborts (pass it to `streamText`), reading stops and the stop is acknowledged.
 */
export async function streamToSession(o: StreamToSessionOptions): Promise<SessionReply> {
  const runId = o.runId ?? randomId('run-');
  if (!isValidId(runId)) throw new Error(`runId must be 1-128 characters of A-Z a-z 0-9 . _ : -: ${runId}`);
  const own = !o.agent;
  const agent = o.agent ?? await DurableAgent.connect({ ...o, url: o.url!, sessionId: o.sessionId,
                                                        producerId: o.producerId ?? `ai-${runId}` });
  let run: Run;
  try {
    run = await agent.startRun(runId, { parentRunId: o.parentRunId });
  } catch (e) {
    if (own) await agent.close();
    throw e;
  }
  const messageId = o.messageId ?? randomId('m-');
  const reply = run.startReply(messageId);
  // a stop fences the run, an interrupt this reply: either ends the model's stream
  const abortSignal = anySignal([run.signal, reply.signal]);
  let source: ChunkSource;
  try {
    source = typeof o.stream === 'function' ? await o.stream({ abortSignal, runId, messageId }) : o.stream;
  } catch (e) {
    await run.fail(String((e as Error)?.message ?? e)).catch(() => false); // ends the reply too
    if (own) await agent.close();
    throw e;
  }
  const done = pipe(run, reply, source, abortSignal)
    .finally(async () => { if (own) await agent.close().catch(() => {}); });
  return { runId, messageId, abortSignal, done };
}

async function pipe(run: Run, reply: Reply, source: ChunkSource, abortSignal: AbortSignal): Promise<ReplyOutcome> {
  let failed: string | null = null;
  const ids = new SafeIds();
  const iterator = iterate(source);
  const onAbort = () => { void iterator.return?.(); };
  abortSignal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (abortSignal.aborted) break;
      const next = await iterator.next();
      if (next.done) break;
      const c = next.value;
      if (write(reply, ids.map(c))) continue;
      if (c.type === 'error') { failed = c.errorText || 'the model stream failed'; break; }
      if (c.type === 'finish' || c.type === 'abort') break;
    }
  } catch (e) {
    if (!abortSignal.aborted) failed = String((e as Error)?.message ?? e) || 'the model stream failed';
  } finally {
    abortSignal.removeEventListener('abort', onAbort);
  }
  try {
    if (run.isFenced) {
      const state = (run.signal.reason as { state?: string } | undefined)?.state;
      return { status: state === 'failed' ? 'failed' : 'stopped' };
    }
    if (reply.isFenced) {
      // interrupted: this reply is over, the run is not stopped; this helper's work is done
      await run.complete();
      return { status: 'interrupted' };
    }
    if (failed !== null) {
      await run.fail(failed); // ends the reply (reason error) in the same append
      return { status: 'failed', error: failed };
    }
    // ends the reply in the same append; an interrupt that won meanwhile aborted the reply's signal
    if (!(await run.complete())) return { status: 'stopped' };
    return { status: reply.signal.aborted ? 'interrupted' : 'completed' };
  } catch (e) {
    return { status: 'failed', error: String((e as Error)?.message ?? e) };
  }
}

function anySignal(signals: AbortSignal[]): AbortSignal {
  const any = (AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (any) return any(signals);
  const c = new AbortController();
  for (const s of signals) {
    if (s.aborted) { c.abort(s.reason); break; }
    s.addEventListener('abort', () => c.abort(s.reason), { once: true });
  }
  return c.signal;
}

/** Writes one chunk; false for chunks that end or steer the stream (handled by the caller) or carry nothing to keep. */
function write(r: Reply, c: UIMessageChunk): boolean {
  switch (c.type) {
    case 'text-delta': r.text(c.delta); return true;
    case 'reasoning-delta': r.reasoning(c.delta); return true;
    case 'start-step': void r.part({ type: 'step-start' }); return true;
    case 'tool-input-start': void r.toolInputStart(c.toolCallId, c.toolName, { dynamic: !!c.dynamic }); return true;
    case 'tool-input-delta': r.toolInputDelta(c.toolCallId, c.inputTextDelta); return true;
    case 'tool-input-available':
      void r.toolCall(c.toolCallId, c.toolName, c.input, { dynamic: !!c.dynamic });
      return true;
    case 'tool-input-error':
      void r.toolCall(c.toolCallId, c.toolName, c.input, { dynamic: !!c.dynamic });
      void r.toolResult(c.toolCallId, c.errorText, { isError: true });
      return true;
    case 'tool-output-available':
      if (!c.preliminary) void r.toolResult(c.toolCallId, c.output);
      return true;
    case 'tool-output-error': void r.toolResult(c.toolCallId, c.errorText, { isError: true }); return true;
    case 'source-url':
    case 'source-document':
    case 'file':
    case 'reasoning-file':
      void r.part(defined(c) as any);
      return true;
    default:
      if (typeof c.type === 'string' && c.type.startsWith('data-')) {
        const d = c as { type: `data-${string}`; id?: string; data: unknown; transient?: boolean };
        // transient data parts are not part of the message: nothing to keep
        if (!d.transient) void r.part(defined({ type: d.type, id: d.id, data: d.data ?? null }) as any);
        return true;
      }
      // text-start/-end, reasoning-start/-end, finish-step, message metadata, tool approvals: the
      // session keeps parts, not these markers (see docs/protocol.md §4.2)
      return !['error', 'finish', 'abort'].includes(c.type); // `start`: the reply is open already
  }
}

/**
 * Tool call ids become session-wide ids (1-128 chars of A-Z a-z 0-9 . _ : -); the few a provider
 * makes outside that alphabet are replaced, the same way for every chunk of the call.
 */
class SafeIds {
  private readonly known = new Map<string, string>();

  map<C extends UIMessageChunk>(c: C): C {
    const id = (c as { toolCallId?: unknown }).toolCallId;
    if (typeof id !== 'string' || isValidId(id)) return c;
    let safe = this.known.get(id);
    if (!safe) { safe = randomId('call-'); this.known.set(id, safe); }
    return { ...c, toolCallId: safe };
  }
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function iterate(source: ChunkSource): AsyncIterator<UIMessageChunk> {
  if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<UIMessageChunk>).getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<UIMessageChunk>>,
      return: async () => { await reader.cancel().catch(() => {}); return { done: true, value: undefined }; },
    };
  }
  return (source as AsyncIterable<UIMessageChunk>)[Symbol.asyncIterator]();
}
