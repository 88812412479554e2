// The AI SDK mapping without a stack: a reply as the server helper writes it, read back as UI
// message chunks (RunStream) from ANY point — a tab that was there from the start, or one that
// hydrated or reloaded after event k — always ends as the same UI message as the snapshot's
// (toUIMessages), checked with the ai package's own readUIMessageStream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readUIMessageStream } from 'ai';
import { Assembler } from '../../dist/index.js';
import { RunStream, toEvents, toUIMessages } from '../../dist/ai.js';

let seq = 0;
const ev = (type, data, runId = 'run-1', agentId = 'agent') => ({ seq: ++seq, sessionId: 's', type, agentId, runId, ts: seq, data });

const m = 'm-1';
const log = [
  ...toEvents({ id: 'u-1', role: 'user', parts: [{ type: 'text', text: 'weather in Paris?' },
                                                 { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AA==' }] }, 'u-1')
    .map((e) => ev(e.type, e.data, undefined, 'user-1')),
  ev('run.started', {}),
  ev('message.start', { messageId: m, role: 'assistant' }),
  ev('message.part', { messageId: m, part: { type: 'data-card', id: 'card', data: { status: 'loading' } } }),
  ev('message.part', { messageId: m, part: { type: 'step-start' } }),
  ev('reasoning.delta', { messageId: m, text: 'Let me ' }),
  ev('reasoning.delta', { messageId: m, text: 'check.' }),
  ev('text.delta', { messageId: m, text: 'Checking ' }),
  ev('text.delta', { messageId: m, text: 'the weather. ' }),
  ev('tool.input.start', { toolCallId: 'c-1', messageId: m, name: 'weather' }),
  ev('tool.input.delta', { toolCallId: 'c-1', messageId: m, text: '{"city":' }),
  ev('tool.input.delta', { toolCallId: 'c-1', messageId: m, text: '"Paris"}' }),
  ev('tool.call', { toolCallId: 'c-1', messageId: m, name: 'weather', arguments: { city: 'Paris' } }),
  ev('tool.result', { toolCallId: 'c-1', messageId: m, result: { temperature: 21 } }),
  ev('message.part', { messageId: m, part: { type: 'data-card', id: 'card', data: { status: 'done' } } }),
  ev('message.part', { messageId: m, part: { type: 'step-start' } }),
  ev('tool.call', { toolCallId: 'c-2', messageId: m, name: 'lookup', arguments: { q: 1 }, dynamic: true }),
  ev('tool.result', { toolCallId: 'c-2', messageId: m, result: 'no such thing', isError: true }),
  ev('text.delta', { messageId: m, text: 'It is 21 °C 😀.' }),
  ev('message.part', { messageId: m, part: { type: 'source-url', sourceId: 'src', url: 'https://example.com', title: 'Ex' } }),
  ev('message.end', { messageId: m }),
  ev('run.completed', {}),
];

/** The parts of DurableSession that RunStream reads: its assembler and its event feed. */
class FakeSession {
  constructor(events) {
    this.assembler = new Assembler();
    for (const e of events) this.assembler.apply(e);
    this.listeners = new Map();
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  deliver(e) {
    this.assembler.apply(e);
    for (const fn of this.listeners.get('event') ?? []) fn(e);
  }
}

async function finalMessage(stream) {
  let last = null;
  for await (const msg of readUIMessageStream({ stream })) last = msg;
  return JSON.parse(JSON.stringify(last));
}

test('the snapshot shows the reply as the AI SDK would', () => {
  const ui = toUIMessages(Assembler.fold(log));
  assert.deepStrictEqual(ui[0], { id: 'u-1', role: 'user', parts: [{ type: 'text', text: 'weather in Paris?' },
    { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AA==' }] });
  assert.deepStrictEqual(ui[1].parts.map((p) => p.type), ['data-card', 'step-start', 'reasoning', 'text', 'tool-weather',
    'step-start', 'dynamic-tool', 'text', 'source-url']);
  assert.deepStrictEqual(ui[1].parts[0], { type: 'data-card', id: 'card', data: { status: 'done' } });
  assert.deepStrictEqual(ui[1].parts[4], { type: 'tool-weather', toolCallId: 'c-1', state: 'output-available',
                                           input: { city: 'Paris' }, output: { temperature: 21 } });
  assert.deepStrictEqual(ui[1].parts[6], { type: 'dynamic-tool', toolName: 'lookup', toolCallId: 'c-2', state: 'output-error',
                                           input: { q: 1 }, errorText: 'no such thing' });
});

test('a tool call whose input is still streaming shows as input-streaming', () => {
  const upTo = log.findIndex((e) => e.type === 'tool.call');
  const [, reply] = toUIMessages(Assembler.fold(log.slice(0, upTo)));
  assert.deepStrictEqual(reply.parts.at(-1), { type: 'tool-weather', toolCallId: 'c-1', state: 'input-streaming',
                                              input: { city: 'Paris' }, rawInput: '{"city":"Paris"}' });
  assert.equal(reply.parts.find((p) => p.type === 'text').state, 'done');
});

test('read from any point of the log, the reply ends as the same UI message', async () => {
  const expected = toUIMessages(Assembler.fold(log))[1];
  const runStarted = log.findIndex((e) => e.type === 'run.started');
  for (let k = runStarted; k < log.length; k++) {
    const session = new FakeSession(log.slice(0, k));
    const rs = new RunStream(session, 'run-1', { startTimeoutMs: 5000 });
    const reading = finalMessage(rs.stream);
    for (const e of log.slice(k)) session.deliver(e);
    assert.deepStrictEqual(await reading, expected, `joined after ${k} events`);
  }
});

test('a stopped run ends the stream with abort for every reader, an interrupt too, a failure with an error', async () => {
  const cut = log.findIndex((e) => e.type === 'tool.input.delta');
  for (const [end, last] of [
    [ev('run.stop_requested', { command: 'cancel', by: 'u', stoppedAtSeq: cut }), 'abort'],
    [ev('run.interrupted', { messageId: m }), 'abort'],
    [ev('run.failed', { reason: 'boom' }), 'error'],
  ]) {
    const session = new FakeSession(log.slice(0, cut));
    const rs = new RunStream(session, 'run-1', { startTimeoutMs: 5000 });
    const types = [];
    const reading = (async () => { for await (const c of rs.stream) types.push(c); })();
    session.deliver(end);
    await reading;
    assert.equal(types.at(-1).type, last, end.type);
    if (last === 'error') assert.equal(types.at(-1).errorText, 'boom');
  }
});

test('a run that does not start its reply in time ends the stream with an error', async () => {
  const session = new FakeSession([]);
  const rs = new RunStream(session, 'run-x', { startTimeoutMs: 50 });
  const chunks = [];
  for await (const c of rs.stream) chunks.push(c);
  assert.deepEqual(chunks, [{ type: 'error', errorText: 'the agent did not start its reply in time' }]);
});
