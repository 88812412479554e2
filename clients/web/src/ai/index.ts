// @durable-sessions/client/ai: durable sessions for the Vercel AI SDK (useChat).
//
//   const transport = new DurableChatTransport({ session, api: '/api/chat' });
//   const { messages, sendMessage, stop } = useChat({ id: sessionId, transport, resume: true });
//
// See '/ai-server' for the route handler's side and '/react' for useDurableSession.
export { DurableChatTransport, toEvents, type DurableChatTransportOptions, type ReplyRequest } from './transport.js';
export { RunStream } from './run-stream.js';
export { errorText, messageParts, reasoningPartId, toUIMessages, toolPart } from './ui-messages.js';
