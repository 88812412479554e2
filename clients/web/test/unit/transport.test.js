// DurableChatTransport's abort rule, without a stack: aborting a request is a stop (for every
// reader) only when the user stopped a reply they were reading. useChat also aborts a resume
// request when it starts another one (a reload: its own resume on mount, and
// useDurableChatSync's), and that must never stop the run. The sequence below is the one
// useChat's Chat follows: abort the previous resume request, then call reconnectToStream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Assembler } from '../../dist/index.js';
import { DurableChatTransport } from '../../dist/ai.js';

let seq = 0;
const ev = (type, data = {}) => ({ seq: ++seq, sessionId: 's', type, agentId: 'agent', runId: 'run-1', ts: seq, data });

/** The parts of DurableSession the transport uses; `connected` opens its (slow) connection. */
class FakeSession {
  constructor(events) {
    this.sessionId = 's';
    this.isClosed = false;
    this.assembler = new Assembler();
    for (const e of events) this.assembler.apply(e);
    this.listeners = new Map();
    this.stops = [];
    this.opened = new Promise((r) => { this.connected = r; });
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  async whenSynced() {}

  async ready() { await this.opened; }

  async stop(runId, reason) { this.stops.push({ runId, reason }); }
}

/** A reply in progress: the run is running and its message is streaming. */
const midReply = () => [ev('run.started'), ev('message.start', { messageId: 'm-1', role: 'assistant' }),
                        ev('text.delta', { messageId: 'm-1', text: 'It is ' })];

/** Lets the transport's deferred abort decision (a timer) run. */
const settle = () => new Promise((r) => setTimeout(r, 20));

test('a resume superseded while the connection opens does not stop the run', async () => {
  const session = new FakeSession(midReply());
  const transport = new DurableChatTransport({ session });
  const first = new AbortController();
  const firstStream = transport.reconnectToStream({ chatId: 's', abortSignal: first.signal });
  // a second resume (useDurableChatSync's, or React's second mount) supersedes the first
  first.abort();
  const second = new AbortController();
  const secondStream = transport.reconnectToStream({ chatId: 's', abortSignal: second.signal });
  session.connected();
  await Promise.all([firstStream, secondStream]);
  await settle();
  assert.deepEqual(session.stops, []);
  assert.ok(transport.isStreaming, 'the second resume reads the reply');
});

test('a resume superseded after its stream was handed over does not stop the run', async () => {
  const session = new FakeSession(midReply());
  session.connected();
  const transport = new DurableChatTransport({ session });
  const first = new AbortController();
  await transport.reconnectToStream({ chatId: 's', abortSignal: first.signal });
  first.abort();
  const second = new AbortController();
  await transport.reconnectToStream({ chatId: 's', abortSignal: second.signal });
  await settle();
  assert.deepEqual(session.stops, []);
});

test("the user's stop of a resumed reply stops the run", async () => {
  const session = new FakeSession(midReply());
  session.connected();
  const transport = new DurableChatTransport({ session });
  const request = new AbortController();
  const stream = await transport.reconnectToStream({ chatId: 's', abortSignal: request.signal });
  assert.ok(stream);
  request.abort();
  await settle();
  assert.deepEqual(session.stops.map((s) => s.runId), ['run-1']);
});

test('an abort while the chat is going away (detached) only stops reading', async () => {
  const session = new FakeSession(midReply());
  session.connected();
  const transport = new DurableChatTransport({ session });
  const request = new AbortController();
  await transport.reconnectToStream({ chatId: 's', abortSignal: request.signal });
  request.abort();
  transport.detach();
  await settle();
  assert.deepEqual(session.stops, []);
  assert.equal(transport.isStreaming, false);
});
