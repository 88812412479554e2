// @durable-sessions/client/agent: write to a session as an agent, from Node (or any runtime with
// fetch or a WebSocket), with the Java DurableAgent's semantics.
//
//   const agent = await DurableAgent.connect({ url: 'http://127.0.0.1:8787', sessionId: 'chat-42',
//                                              producerId: 'writer-1', bearerToken: () => token });
//   const run = await agent.startRun('run-1');
//   const reply = run.startReply('m-1');
//   for await (const token of model.stream({ signal: run.signal })) reply.text(token);
//   await run.complete();   // ends the reply in the same append; false if a client stopped the run first
//   await agent.close();
export { DurableAgent, Reply, Run, RunFencedError,
         type ControlEvent, type ControlKind, type DurableAgentOptions, DEFAULT_COALESCE_WINDOW_MS } from './agent.js';
export { Coalescer, type CoalescerClock, type HeldText } from './coalescer.js';
export { type Backoff, DEFAULT_BACKOFF } from './backoff.js';
export { encodedBytes, splitText } from './text.js';
export { DurableSessionError } from '../session.js';
