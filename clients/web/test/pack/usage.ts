// Compiled by the pack test (pack-test.mjs) in a scratch project that installed the packed
// tarball: every entry point resolves through "exports" with its types, and the types are real
// (the @ts-expect-error lines fail the build if they ever become `any`).
import type { ChatTransport, UIMessage, UIMessageChunk } from 'ai';
import { Assembler, ClientRule, DurableSession, joinSnapshot, type SessionEvent, type SessionState } from '@durable-sessions/client';
import { DurableChatTransport, toUIMessages } from '@durable-sessions/client/ai';
import { DurableAgent, type ControlEvent } from '@durable-sessions/client/agent';
import { streamToSession, type ReplyOutcome } from '@durable-sessions/client/ai-server';
import { useDurableChatSync, useDurableChatTransport, useDurableSession } from '@durable-sessions/client/react';

const session = new DurableSession({ url: 'ws://127.0.0.1:8787/local', sessionId: 'chat-42',
                                     protocols: async () => ['durable-sessions', 'token.x'] });
session.on('event', (e: SessionEvent) => void e.seq);
session.on('replyEnd', (r) => void r.messageId.toUpperCase());
const state: SessionState = new Assembler().apply({ seq: 1, sessionId: 's', type: 'custom', agentId: 'a', ts: 1, data: { name: 'x' } }).state();
const joined: SessionState = joinSnapshot([{ headSeq: 0, final: true, state }]);
const last: number = new ClientRule(joined.headSeq).last;

const transport: ChatTransport<UIMessage> = new DurableChatTransport({ session, api: '/api/chat', onAbort: 'stop' });
const messages: UIMessage[] = toUIMessages(state);
// @ts-expect-error onAbort is 'stop' or 'detach'
new DurableChatTransport({ session, onAbort: 'hang-up' });

async function agentSide(stream: ReadableStream<UIMessageChunk>): Promise<ReplyOutcome> {
  const agent = await DurableAgent.connect({ url: 'http://127.0.0.1:8787', sessionId: 'chat-42', producerId: 'w-1',
                                             bearerToken: () => 'token', onControl: (e: ControlEvent) => void e.kind });
  const run = await agent.startRun('run-1');
  const reply = run.startReply('m-1');
  reply.text('hello');
  reply.reasoning('because');
  await reply.part({ type: 'source-url', sourceId: 's1', url: 'https://example.com' });
  // @ts-expect-error a part needs its fields
  await reply.part({ type: 'file' });
  await reply.end();
  const ok: boolean = await run.complete();
  void ok;
  const r = await streamToSession({ url: 'ws://127.0.0.1:8787/local', connectQuery: () => 'token=x', sessionId: 'chat-42',
                                    stream: ({ abortSignal }) => { void abortSignal.aborted; return stream; } });
  return r.done;
}

export function Chat(props: { sessionId: string }) {
  const ds = useDurableSession({ url: 'ws://127.0.0.1:8787/local', sessionId: props.sessionId });
  const t = useDurableChatTransport(ds, { api: '/api/chat' });
  useDurableChatSync(ds, { messages, status: 'ready', setMessages: () => {}, resumeStream: async () => {} }, t);
  const presence: string[] = ds.presence.map((p) => p.memberId);
  void ds.send; void ds.stop; void ds.steer; void ds.interrupt;
  return presence.length + last + (ds.activeRun?.runId.length ?? 0);
}

void transport; void agentSide;
