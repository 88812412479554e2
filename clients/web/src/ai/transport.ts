// A Vercel AI SDK ChatTransport over a durable session: `useChat({ transport })`.
//
// sendMessages appends the user message to the session, asks the back end to start the reply
// (POST `api`, where `streamToSession` from '/ai-server' pipes streamText into the session), and
// returns the reply read from the session. reconnectToStream resumes a reply in progress after a
// reload, in any tab. Aborting (useChat's stop()) stops the run with the session's fenced stop —
// for every reader, and the model's stream through its abort signal — instead of only hanging up.
import type { ChatRequestOptions, ChatTransport, UIMessage, UIMessageChunk } from 'ai';
import { type DurableSession, isValidId, randomId } from '../session.js';
import type { EventInput } from '../types.js';
import { RunStream } from './run-stream.js';

/** What the back end gets to start a reply (the JSON body POSTed to `api`). */
export interface ReplyRequest<M extends UIMessage = UIMessage> {
  /** The chat's id (useChat's `id`). */
  id: string;
  sessionId: string;
  /** The run to open for the reply; the back end may open another and answer `{ runId }`. */
  runId: string;
  trigger: 'submit-message' | 'regenerate-message';
  /** The message to regenerate (trigger `regenerate-message`). */
  messageId?: string;
  /** The user message this reply answers, as appended to the session. */
  userMessageId?: string;
  /** The conversation so far, the new user message last. */
  messages: M[];
  metadata?: unknown;
  [extra: string]: unknown;
}

export interface DurableChatTransportOptions<M extends UIMessage = UIMessage> {
  /** The session (started), or a function returning the current one (e.g. useDurableSession's). */
  session: DurableSession | (() => DurableSession | null | undefined);
  /** Where to POST the {@link ReplyRequest} (default `/api/chat`). */
  api?: string;
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** Extra fields of the request body. */
  body?: Record<string, unknown> | (() => Record<string, unknown> | Promise<Record<string, unknown>>);
  credentials?: RequestCredentials;
  fetch?: typeof fetch;
  /** Starts the reply instead of the POST to `api`; may return the run it opened. */
  startReply?: (request: ReplyRequest<M>, init: { abortSignal?: AbortSignal }) => Promise<void | { runId?: string }>;
  /**
   * What aborting a request (useChat's `stop()`) does: `stop` (default) stops the run in the
   * session — for every reader, and the model's stream — `detach` only stops reading.
   */
  onAbort?: 'stop' | 'detach';
  /** How long the reply may take to start (default 60 s). */
  startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DurableChatTransport<M extends UIMessage = UIMessage> implements ChatTransport<M> {
  /** A resumed stream replays the reply from its start: the chat resets the message on its first chunk. */
  readonly resumeStreamIsReplay = true;
  private readonly o: DurableChatTransportOptions<M>;
  private readonly streamed = new Set<string>();
  private readonly active = new Set<RunStream>();
  private reconnects = 0;
  private detached = false;

  constructor(options: DurableChatTransportOptions<M>) {
    this.o = options;
  }

  async sendMessages(options: {
    trigger: 'submit-message' | 'regenerate-message';
    chatId: string;
    messageId: string | undefined;
    messages: M[];
    abortSignal: AbortSignal | undefined;
  } & ChatRequestOptions): Promise<ReadableStream<UIMessageChunk>> {
    const { trigger, chatId, messageId, messages, abortSignal } = options;
    const session = await this.sessionReady(abortSignal);
    let userMessageId: string | undefined;
    const last = messages[messages.length - 1];
    if (trigger === 'submit-message' && last?.role === 'user') {
      userMessageId = isValidId(last.id) ? last.id : randomId('u-');
      if (!session.assembler.messages.has(userMessageId)) await session.append(toEvents(last, userMessageId));
    }
    const runId = randomId('run-');
    // read before asking: every event of the run is then seen, however fast the agent is
    const rs = this.follow(session, runId, abortSignal);
    try {
      const request: ReplyRequest<M> = {
        ...(await resolve(this.o.body)), ...(options.body as Record<string, unknown> | undefined),
        id: chatId, sessionId: session.sessionId, runId, trigger, messageId, userMessageId, messages,
        metadata: options.metadata,
      };
      const answer = this.o.startReply
        ? await this.o.startReply(request, { abortSignal })
        : await this.post(request, options.headers, abortSignal);
      if (answer?.runId && answer.runId !== runId) {
        this.streamed.add(answer.runId);
        rs.retarget(answer.runId);
      }
    } catch (e) {
      rs.end();
      throw e;
    }
    return rs.stream;
  }

  async reconnectToStream(options: { chatId: string; abortSignal?: AbortSignal } & ChatRequestOptions):
      Promise<ReadableStream<UIMessageChunk> | null> {
    this.reconnects++;
    const session = await this.sessionReady(options.abortSignal);
    const run = this.replyInProgress(session);
    if (!run) return null;
    return this.follow(session, run, options.abortSignal).stream;
  }

  /** The newest running run whose reply has not ended, or null. */
  replyInProgress(session: DurableSession): string | null {
    const a = session.assembler;
    const running = [...a.runs.values()].filter((r) => r.state === 'running').sort((x, y) => y.startedSeq - x.startedSeq);
    for (const r of running) {
      const replies = [...a.messages.values()].filter((m) => m.runId === r.runId && m.role === 'assistant')
        .sort((x, y) => x.firstSeq - y.firstSeq);
      if (replies.length === 0 || a.messageStatus(replies[0]) === 'streaming') return r.runId;
    }
    return null;
  }

  /** Whether this transport streamed (or is streaming) the run's reply. */
  hasStreamed(runId: string): boolean {
    return this.streamed.has(runId);
  }

  /** Whether a reply is being read now. */
  get isStreaming(): boolean {
    return this.active.size > 0;
  }

  /** Stops the reply in progress (the fenced stop), as aborting a request does. */
  async stop(reason = 'stopped by the user'): Promise<void> {
    const session = this.session();
    const runId = session && this.replyInProgress(session);
    if (session && runId) await session.stop(runId, reason);
  }

  /** From now on an abort only stops reading (the chat is going away, e.g. unmounted); see {@link attach}. */
  detach(): void {
    this.detached = true;
  }

  attach(): void {
    this.detached = false;
  }

  private follow(session: DurableSession, runId: string, abortSignal: AbortSignal | undefined): RunStream {
    this.streamed.add(runId);
    let rs: RunStream | null = null;
    const onAbort = () => {
      if (!rs || rs.isFinished) return;
      rs.end();
      if ((this.o.onAbort ?? 'stop') !== 'stop') return;
      const reconnects = this.reconnects;
      const runToStop = rs.id;
      // decided a moment later: the chat aborts a resumed stream when it resumes again (not a
      // stop), and aborts on unmount (detach() is called right after by useDurableChatSync)
      setTimeout(() => {
        if (this.detached || this.reconnects !== reconnects) return;
        if (session.assembler.runs.get(runToStop)?.state === 'running') {
          void session.stop(runToStop, 'stopped by the user').catch(() => {});
        }
      }, 0);
    };
    rs = new RunStream(session, runId, {
      startTimeoutMs: this.o.startTimeoutMs ?? 60000,
      onEnd: () => { if (rs) this.active.delete(rs); abortSignal?.removeEventListener('abort', onAbort); },
    });
    if (abortSignal?.aborted) {
      // aborted before the chat had this stream: a resume that a newer one superseded (a reload
      // resumes twice: useChat on mount, and useDurableChatSync), or a send stopped before its
      // run began. Only reading ends; stopping here stopped a live reply for every reader.
      rs.end();
      return rs;
    }
    if (!rs.isFinished) this.active.add(rs);
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    return rs;
  }

  private session(): DurableSession | null {
    const s = this.o.session;
    return typeof s === 'function' ? (s() ?? null) : s;
  }

  private async sessionReady(abortSignal?: AbortSignal): Promise<DurableSession> {
    const deadline = Date.now() + 30000;
    for (;;) {
      if (abortSignal?.aborted) throw abortSignal.reason ?? new DOMException('aborted', 'AbortError');
      const s = this.session();
      if (s && !s.isClosed) {
        await s.whenSynced(Math.max(1, deadline - Date.now()));
        await s.ready(Math.max(1, deadline - Date.now()));
        return s;
      }
      if (Date.now() > deadline) throw new Error('no durable session to read from');
      await sleep(25);
    }
  }

  private async post(request: ReplyRequest<M>, extra: ChatRequestOptions['headers'], abortSignal?: AbortSignal):
      Promise<void | { runId?: string }> {
    const headers = new Headers({ 'Content-Type': 'application/json', ...(await resolve(this.o.headers)) });
    if (extra) new Headers(extra as HeadersInit).forEach((v, k) => headers.set(k, v));
    const f = this.o.fetch ?? globalThis.fetch.bind(globalThis);
    const r = await f(this.o.api ?? '/api/chat', { method: 'POST', headers, body: JSON.stringify(request),
                                                   credentials: this.o.credentials, signal: abortSignal });
    if (!r.ok) throw new Error(`starting the reply failed: HTTP ${r.status} ${(await r.text().catch(() => '')).slice(0, 300)}`);
    const type = r.headers.get('content-type') ?? '';
    if (!type.includes('application/json')) { void r.body?.cancel(); return; }
    const answer = await r.json().catch(() => null);
    return answer && typeof answer.runId === 'string' ? { runId: answer.runId } : undefined;
  }
}

async function resolve<T>(v: T | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof v === 'function' ? await (v as () => T | Promise<T>)() : v;
}

/** A UI message as one atomic append: start, its parts, end (long text split under the event limit). */
export function toEvents(m: UIMessage, messageId: string): EventInput[] {
  const events: EventInput[] = [{ type: 'message.start', data: { messageId, role: m.role } }];
  for (const p of m.parts as any[]) {
    if (p.type === 'text') {
      for (let i = 0; i < p.text.length; i += 16000) events.push({ type: 'text.delta', data: { messageId, text: p.text.slice(i, i + 16000) } });
    } else if (p.type === 'reasoning') {
      events.push({ type: 'reasoning.delta', data: { messageId, text: p.text } });
    } else if (['file', 'source-url', 'source-document', 'reasoning-file', 'step-start'].includes(p.type)
        || (typeof p.type === 'string' && p.type.startsWith('data-'))) {
      events.push({ type: 'message.part', data: { messageId, part: JSON.parse(JSON.stringify(p)) } });
    }
  }
  events.push({ type: 'message.end', data: { messageId } });
  return events;
}
