// @durable-sessions/client/react: React hooks for a durable session, and for useChat on top of it.
//
//   const ds = useDurableSession({ url, sessionId, protocols: async () => ['durable-sessions', `token.${token}`] });
//   ds.state.items, ds.status, ds.presence, ds.send('hi'), ds.stop(), ds.steer('shorter'), ds.interrupt()
//
//   const transport = useDurableChatTransport(ds, { api: '/api/chat' });
//   const chat = useChat({ id: sessionId, transport, resume: true });
//   useDurableChatSync(ds, chat, transport);   // other tabs' turns, hydrate, resume
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { UIMessage } from 'ai';
import { DurableChatTransport, type DurableChatTransportOptions } from '../ai/transport.js';
import { toUIMessages } from '../ai/ui-messages.js';
import { DurableSession, type DurableSessionOptions } from '../session.js';
import type { PresenceView, RunView, SessionState } from '../types.js';

export type SessionStatus = 'connecting' | 'connected' | 'reconnecting' | 'deleted';

export interface UseDurableSessionOptions extends DurableSessionOptions {
  /** false: no connection (e.g. until a token is known). Default true. */
  enabled?: boolean;
}

export interface DurableSessionHandle {
  /** The client (null until the effect created it, and while disabled). */
  session: DurableSession | null;
  /** The assembled conversation, runs, agents and presence. */
  state: SessionState;
  status: SessionStatus;
  /** True once the state is hydrated (or restored after a reload). */
  synced: boolean;
  presence: PresenceView[];
  /** The newest running run, or null. */
  activeRun: RunView | null;
  /** Appends a user message; resolves with its id. */
  send(text: string): Promise<string>;
  /** Stops a run (default the active one) with the session's fenced stop. */
  stop(runId?: string, reason?: string): Promise<void>;
  /** Sends an instruction to a running run (default the active one). */
  steer(text: string, runId?: string): Promise<void>;
  /** Ends the reply in progress of a run (default the active one); the run goes on. */
  interrupt(runId?: string, messageId?: string): Promise<void>;
}

const EMPTY: SessionState = { headSeq: 0, items: [], runs: [], agents: [], presence: [] };

function activeRunOf(state: SessionState): RunView | null {
  const running = state.runs.filter((r) => r.state === 'running');
  return running.length ? running[running.length - 1] : null;
}

/**
 * One durable session for a component tree: connects when mounted (hydrating, or resuming after
 * a reload), re-renders on every applied change (at most once per animation frame), closes when
 * unmounted. Identity functions (`connectQuery`, `protocols`) are read on every reconnect, so a
 * refreshed token is used.
 */
export function useDurableSession(options: UseDurableSessionOptions): DurableSessionHandle {
  const latest = useRef(options);
  latest.current = options;
  const [session, setSession] = useState<DurableSession | null>(null);
  const [state, setState] = useState<SessionState>(EMPTY);
  const [status, setStatus] = useState<SessionStatus>('connecting');
  const [synced, setSynced] = useState(false);
  const enabled = options.enabled !== false;

  useEffect(() => {
    if (!enabled) return undefined;
    const o = latest.current;
    const s = new DurableSession({
      ...o,
      connectQuery: (ctx) => latest.current.connectQuery?.(ctx) ?? '',
      protocols: o.protocols ? (ctx) => latest.current.protocols!(ctx) : null,
    });
    const offs = [
      s.on('state', (st) => { setState(st); setSynced(s.isSynced); }),
      s.on('snapshot', (st) => { setState(st); setSynced(true); }),
      s.on('status', (st) => {
        setStatus((prev) => prev === 'deleted' ? prev : st.connected ? 'connected' : st.reconnecting ? 'reconnecting' : 'connecting');
      }),
      s.on('deleted', () => { setStatus('deleted'); setState(EMPTY); setSynced(false); }),
    ];
    if (s.isSynced) { setState(s.state); setSynced(true); } // restored after a reload
    else { setState(EMPTY); setSynced(false); }
    setStatus('connecting');
    s.start();
    setSession(s);
    return () => {
      offs.forEach((off) => off());
      s.close();
      setSession((cur) => (cur === s ? null : cur));
    };
  }, [options.url, options.sessionId, enabled]);

  const sessionRef = useRef(session);
  sessionRef.current = session;
  const stateRef = useRef(state);
  stateRef.current = state;
  const need = () => {
    const s = sessionRef.current;
    if (!s) throw new Error('the durable session is not connected');
    return s;
  };
  const runOr = (runId?: string) => runId ?? activeRunOf(stateRef.current)?.runId;

  const send = useCallback((text: string) => need().sendUserMessage(text), []);
  const stop = useCallback(async (runId?: string, reason?: string) => {
    const id = runOr(runId);
    if (id) await need().stop(id, reason);
  }, []);
  const steer = useCallback(async (text: string, runId?: string) => {
    const id = runOr(runId);
    if (id) await need().steer(id, text);
  }, []);
  const interrupt = useCallback(async (runId?: string, messageId?: string) => {
    const id = runOr(runId);
    if (id) await need().interrupt(id, messageId);
  }, []);

  return useMemo(() => ({
    session, state, status, synced, presence: state.presence, activeRun: activeRunOf(state), send, stop, steer, interrupt,
  }), [session, state, status, synced, send, stop, steer, interrupt]);
}

/**
 * A {@link DurableChatTransport} for `useChat`, reading from the hook's session (the same object
 * across renders and reconnects; options are read once).
 */
export function useDurableChatTransport<M extends UIMessage = UIMessage>(
  handle: DurableSessionHandle, options: Omit<DurableChatTransportOptions<M>, 'session'> = {}): DurableChatTransport<M> {
  const ref = useRef(handle.session);
  ref.current = handle.session;
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => new DurableChatTransport<M>({ ...options, session: () => ref.current }), []);
}

/** The parts of useChat's helpers that the sync uses. */
export interface ChatLike<M extends UIMessage = UIMessage> {
  messages: M[];
  status: 'submitted' | 'streaming' | 'ready' | 'error';
  setMessages: (messages: M[]) => void;
  resumeStream: () => Promise<void>;
}

/**
 * Keeps `useChat` on the session: when no request of this chat is running, its messages are the
 * session's (a hydrate, another tab's turn), and a reply that another tab started is resumed, so
 * every tab streams it. Unmounting the chat does not stop its reply (only `stop()` does).
 */
export function useDurableChatSync<M extends UIMessage = UIMessage>(
  handle: DurableSessionHandle, chat: ChatLike<M>, transport: DurableChatTransport<M>): void {
  useEffect(() => {
    transport.attach();
    return () => transport.detach();
  }, [transport]);

  const chatRef = useRef(chat);
  chatRef.current = chat;
  useEffect(() => {
    const c = chatRef.current;
    const s = handle.session;
    if (!handle.synced || !s || c.status === 'submitted' || c.status === 'streaming' || transport.isStreaming) return;
    const next = toUIMessages<M>(handle.state);
    if (!sameConversation(c.messages, next)) c.setMessages(next);
    const runId = transport.replyInProgress(s);
    if (runId && !transport.hasStreamed(runId)) void c.resumeStream();
  }, [handle.state, handle.synced, handle.session, chat.status, transport]);
}

function sameConversation(a: UIMessage[], b: UIMessage[]): boolean {
  if (a.length !== b.length) return false;
  const key = (m: UIMessage) => JSON.stringify({ id: m.id, role: m.role, parts: m.parts });
  for (let i = 0; i < a.length; i++) if (key(a[i]) !== key(b[i])) return false;
  return true;
}
