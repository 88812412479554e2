// @durable-sessions/client: the client of docs/protocol.md for browsers and any JavaScript runtime.
//
//   import { DurableSession } from '@durable-sessions/client';
//   const s = new DurableSession({ url: 'wss://…/prod', sessionId: 'chat-42',
//                                  protocols: async () => ['durable-sessions', `token.${await getToken()}`] });
//   s.on('state', (state) => render(state));
//   s.start();
//
// Subpaths: '/react' (useDurableSession), '/ai' (the Vercel AI SDK ChatTransport), '/agent' (the
// Node agent SDK), '/ai-server' (pipe an AI SDK stream into a session as an agent).
export { Assembler } from './assembler.js';
export { ClientRule } from './client-rule.js';
export { ERROR_CODES, isRetryable, type Recovery } from './errors.js';
export { joinSnapshot, type SnapshotFrame } from './snapshot.js';
export {
  DurableSession, DurableSessionError, isValidId, randomId, tabInstanceId,
  type ConnectionStatus, type DurableSessionEvents, type DurableSessionOptions, type ReplyEnd, type WebSocketConstructor,
} from './session.js';
export * from './types.js';
