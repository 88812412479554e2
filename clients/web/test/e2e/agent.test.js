// The Node agent SDK on a real local stack, over the WebSocket and over the HTTP API: coalescing,
// retries that never duplicate (forced reconnects, lost acks), control callbacks, fencing and
// heartbeats — the Java DurableAgent's semantics.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { DurableSession } from '../../dist/index.js';
import { DEFAULT_COALESCE_WINDOW_MS, DurableAgent } from '../../dist/agent.js';
import { toUIMessages } from '../../dist/ai.js';
import { TEST_LIVENESS_SECONDS as LIVENESS_SECONDS, startStack, token, WAIT_MS, waitFor } from '../support/stack.js';

let stack;
let agentToken;
let clientToken;

before(async () => {
  stack = await startStack(); // its liveness timeout is short: a quiet run without heartbeats fails within seconds
  agentToken = token('agent-1', 'agent');
  clientToken = token('user-1', 'client');
});

// whatever a test opened is closed after it, passed or failed (an open socket keeps the process alive)
const opened = [];
const track = (x) => { opened.push(x); return x; };
afterEach(async () => {
  for (const x of opened.splice(0)) await x.close();
});

after(async () => {
  await stack?.stop();
});

let n = 0;
const newSessionId = (name) => `agent-${name}-${Date.now().toString(36)}-${++n}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function reader(sessionId) {
  return track(new DurableSession({ url: stack.wsUrl, sessionId, WebSocket, storage: null,
                              connectQuery: ({ instance }) => `token=${clientToken}&instance=${instance}` }).start());
}

function agentFor(transport, sessionId, options = {}) {
  const auth = transport === 'http'
    ? { url: stack.httpUrl, bearerToken: () => agentToken }
    : { url: stack.wsUrl, connectQuery: () => `token=${agentToken}`, WebSocket };
  return DurableAgent.connect({ ...auth, sessionId, producerId: `p-${++n}`, heartbeatIntervalMs: 500, ...options }).then(track);
}

const message = (s, id) => s.state.items.find((i) => i.kind === 'message' && i.messageId === id);

describe('Node agent SDK', { concurrency: false }, () => {
  test('coalesced replies arrive exactly once across forced reconnects and lost acks (WebSocket)', async () => {
    const sessionId = newSessionId('exactly-once');
    let acks = 0;
    const agent = await agentFor('ws', sessionId, {
      requestTimeoutMs: 700,
      deliverInbound: (f) => !(f.type === 'ack' && ++acks % 5 === 0), // every 5th ack is lost
    });
    const s = reader(sessionId);
    const run = await agent.startRun('run-1');
    const reply = run.startReply('m-1');
    let expected = '';
    // three network cuts while it streams (more, back to back, would back off past the liveness timeout)
    const cuts = [400, 1000, 1600].map((ms) => setTimeout(() => agent.dropConnection(), ms));
    for (let i = 0; i < 400; i++) {
      const t = `t${i} ${i % 50 === 0 ? '😀 ' : ''}`;
      expected += t;
      reply.text(t);
      await sleep(5);
    }
    cuts.forEach(clearTimeout);
    assert.equal(await reply.end(), true, `the reply ended (run: ${JSON.stringify(s.assembler.runs.get('run-1'))})`);
    assert.equal(await run.complete(), true, `the run completed (run: ${JSON.stringify(s.assembler.runs.get('run-1'))})`);
    await waitFor(() => message(s, 'm-1')?.status === 'complete', WAIT_MS, 'the reply to arrive');
    assert.equal(message(s, 'm-1').text, expected, 'every delta exactly once, in order');
    assert.ok(agent.stats.retries > 0, `re-sent: ${JSON.stringify(agent.stats)}`);
    assert.ok(agent.stats.duplicateAcks > 0, `a lost ack was answered as a duplicate: ${JSON.stringify(agent.stats)}`);
    assert.ok(agent.stats.appendsAcked < 100, `400 deltas coalesced into ${agent.stats.appendsAcked} appends`);
    await agent.close();
    s.close();
  });

  test('streamed text is coalesced into one append per window (the default 300 ms) after the leading edge', async () => {
    const sessionId = newSessionId('coalesce');
    const agent = await agentFor('http', sessionId);
    const s = reader(sessionId);
    const run = await agent.startRun('run-1');
    const reply = run.startReply('m-1');
    const started = Date.now();
    for (let i = 0; i < 200; i++) { reply.text(`${i} `); await sleep(5); }
    const seconds = (Date.now() - started) / 1000;
    await reply.end();
    await run.complete();
    await waitFor(() => message(s, 'm-1')?.status === 'complete', WAIT_MS, 'the reply');
    const deltas = [];
    for (const e of (await (await fetch(`${stack.httpUrl}/v1/sessions/${sessionId}/events?limit=1000`,
      { headers: { Authorization: `Bearer ${clientToken}` } })).json()).events) if (e.type === 'text.delta') deltas.push(e);
    // one delta per window (at most one more at each end: the leading edge, the end), however many tokens
    assert.ok(deltas.length <= Math.ceil(seconds / (DEFAULT_COALESCE_WINDOW_MS / 1000)) + 2, `${deltas.length} text.delta events for ${seconds} s`);
    assert.equal(deltas.map((e) => e.data.text).join(''), Array.from({ length: 200 }, (_, i) => `${i} `).join(''));
    assert.equal(agent.stats.retries, 0);
    await agent.close();
    s.close();
  });

  test('a pipelined producer with lost acks and a cut stores every event once, in call order (WebSocket)', async () => {
    const sessionId = newSessionId('pipeline');
    let acks = 0;
    const agent = await agentFor('ws', sessionId, {
      maxInFlight: 8,
      requestTimeoutMs: 700,
      deliverInbound: (f) => !(f.type === 'ack' && ++acks % 5 === 0), // every 5th ack is lost
    });
    const done = [];
    for (let i = 0; i < 1500; i++) {
      done.push(agent.append('custom', { name: `n${i}` }));
      if (i === 700) agent.dropConnection();
    }
    assert.deepEqual(new Set(await Promise.all(done)), new Set([true]));
    const names = [];
    for (let after = 0; ;) {
      const page = (await (await fetch(`${stack.httpUrl}/v1/sessions/${sessionId}/events?afterSeq=${after}&limit=500`,
        { headers: { Authorization: `Bearer ${clientToken}` } })).json()).events;
      if (page.length === 0) break;
      for (const e of page) if (e.type === 'custom') names.push(e.data.name);
      after = page[page.length - 1].seq;
    }
    assert.deepEqual(names, Array.from({ length: 1500 }, (_, i) => `n${i}`), 'each event once, in call order');
    assert.ok(agent.stats.duplicateAcks > 0, `a lost ack was answered as a duplicate: ${JSON.stringify(agent.stats)}`);
    await agent.close();
  });

  test('an agent writes on after its session was erased: the session begins again from its next append', async () => {
    const sessionId = newSessionId('erased');
    const agent = await agentFor('ws', sessionId);
    for (let i = 0; i < 3; i++) assert.equal(await agent.append('custom', { name: `before${i}` }), true);
    const r = await fetch(`${stack.httpUrl}/v1/sessions/${sessionId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${clientToken}` } });
    assert.equal(r.status, 200);
    // the service holds nothing of the agent's producer any more: its seqs start over at 0
    for (let i = 0; i < 3; i++) assert.equal(await agent.append('custom', { name: `after${i}` }), true);
    const events = (await (await fetch(`${stack.httpUrl}/v1/sessions/${sessionId}/events`,
      { headers: { Authorization: `Bearer ${clientToken}` } })).json()).events;
    assert.deepEqual(events.filter((e) => e.type === 'custom').map((e) => e.data.name), ['after0', 'after1', 'after2']);
    await agent.close();
  });

  for (const transport of ['ws', 'http']) {
    test(`an agent's traceparent is stored with the events of its appends (${transport})`, async () => {
      const sessionId = newSessionId(`trace-${transport}`);
      let traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const agent = await agentFor(transport, sessionId, { traceparent: () => traceparent });
      const run = await agent.startRun('run-1');
      traceparent = 'not a traceparent'; // not sent: that append goes through without one
      assert.equal(await run.complete(), true);
      const events = (await (await fetch(`${stack.httpUrl}/v1/sessions/${sessionId}/events`,
        { headers: { Authorization: `Bearer ${clientToken}` } })).json()).events;
      assert.deepEqual(events.filter((e) => e.runId === 'run-1').map((e) => [e.type, e.traceparent]),
        [['run.started', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'], ['run.completed', undefined]]);
      await agent.close();
    });
  }

  test('text, reasoning, parts and streamed tool input keep their order', async () => {
    const sessionId = newSessionId('order');
    const agent = await agentFor('ws', sessionId);
    const s = reader(sessionId);
    const run = await agent.startRun('run-1');
    const reply = run.startReply('m-1');
    await reply.part({ type: 'step-start' });
    reply.reasoning('Thinking ');
    reply.reasoning('hard.');
    reply.text('Let me look. ');
    await reply.toolInputStart('call-1', 'search');
    reply.toolInputDelta('call-1', '{"q":');
    reply.toolInputDelta('call-1', '"cats"}');
    await reply.toolCall('call-1', 'search', { q: 'cats' });
    await reply.toolResult('call-1', { hits: 3 });
    await reply.part({ type: 'data-progress', id: 'p', data: { done: 1 } });
    reply.text('Found 3.');
    await reply.part({ type: 'data-progress', id: 'p', data: { done: 2 } });
    await reply.end();
    await run.complete();
    await waitFor(() => message(s, 'm-1')?.status === 'complete', WAIT_MS, 'the reply');
    const [ui] = toUIMessages(s.state);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(ui.parts)), [
      { type: 'step-start' },
      { type: 'reasoning', id: 'm-1-reasoning-0', text: 'Thinking hard.', state: 'done' },
      { type: 'text', text: 'Let me look. ', state: 'done' },
      { type: 'tool-search', toolCallId: 'call-1', state: 'output-available', input: { q: 'cats' }, output: { hits: 3 } },
      { type: 'data-progress', id: 'p', data: { done: 2 } },
      { type: 'text', text: 'Found 3.', state: 'done' },
    ]);
    await agent.close();
    s.close();
  });

  for (const transport of ['ws', 'http']) {
    test(`a client's stop aborts the run, is acknowledged once, and nothing more is written (${transport})`, async () => {
      const sessionId = newSessionId(`stop-${transport}`);
      const control = [];
      const agent = await agentFor(transport, sessionId, { onControl: (e) => { control.push(e); } });
      const s = reader(sessionId);
      const run = await agent.startRun('run-1');
      const reply = run.startReply('m-1');
      let i = 0;
      const writing = setInterval(() => reply.text(`w${i++} `), 10);
      await waitFor(() => (message(s, 'm-1')?.text.length ?? 0) > 100, WAIT_MS, 'text to arrive');
      await s.stop('run-1', 'enough');
      await waitFor(() => run.signal.aborted, WAIT_MS, 'the run\'s signal to abort');
      assert.equal(run.signal.reason.state, 'stop_requested');
      await waitFor(() => s.assembler.runs.get('run-1')?.state === 'stopped', WAIT_MS, 'the stop to be acknowledged');
      const text = message(s, 'm-1').text;
      await sleep(600); // still "writing": dropped by the SDK, and refused by the fence
      clearInterval(writing);
      assert.equal(message(s, 'm-1').text, text, 'nothing after the stop');
      assert.equal(await run.complete(), false);
      assert.equal(run.isFenced, true);
      await agent.flush();
      assert.deepEqual(control.map((e) => e.kind), ['cancel'], 'one cancel callback');
      if (transport === 'http') assert.equal(control[0].text, 'enough'); // over the WebSocket a refused append may tell first
      const types = [];
      s.on('event', (e) => types.push(e.type));
      await sleep(300);
      assert.ok(!types.includes('text.delta'));
      await agent.close();
      s.close();
    });
  }

  test('an interrupt ends the reply and a steer reaches the agent; the run goes on (WebSocket)', async () => {
    const sessionId = newSessionId('interrupt');
    const control = [];
    const agent = await agentFor('ws', sessionId, { onControl: (e) => { control.push(e); } });
    const s = reader(sessionId);
    const run = await agent.startRun('run-1');
    const first = run.startReply('m-1');
    first.text('a long answer ');
    await agent.flush();
    await waitFor(() => message(s, 'm-1'), WAIT_MS, 'the reply');
    await s.steer('run-1', 'be brief');
    await waitFor(() => control.some((e) => e.kind === 'steer'), WAIT_MS, 'the steer');
    await s.interrupt('run-1');
    await waitFor(() => first.signal.aborted, WAIT_MS, 'the reply\'s signal');
    assert.equal(run.signal.aborted, false, 'the run goes on');
    first.text('more'); // ignored: the reply is fenced
    const second = run.startReply('m-2');
    second.text('Briefly: yes.');
    assert.equal(await second.end(), true);
    assert.equal(await run.complete(), true);
    await waitFor(() => s.assembler.runs.get('run-1')?.state === 'completed', WAIT_MS, 'completion');
    assert.deepEqual(control.map((e) => e.kind), ['steer', 'interrupt']);
    assert.equal(control[0].text, 'be brief');
    assert.equal(control[1].messageId, 'm-1');
    assert.equal(message(s, 'm-1').status, 'interrupted');
    assert.equal(message(s, 'm-1').text, 'a long answer ');
    assert.equal(message(s, 'm-2').text, 'Briefly: yes.');
    await agent.close();
    s.close();
  });

  test('heartbeats keep a quiet run alive; without them the service fails it (HTTP)', async () => {
    const sessionId = newSessionId('heartbeat');
    const agent = await agentFor('http', sessionId);
    const s = reader(sessionId);
    await agent.startRun('run-1');
    await sleep((LIVENESS_SECONDS + 2) * 1000); // nothing written, only heartbeats
    await waitFor(() => s.assembler.runs.get('run-1'), WAIT_MS, 'the run');
    assert.equal(s.assembler.runs.get('run-1').state, 'running', 'alive on heartbeats alone');
    await agent.close(); // gone without completing: no more heartbeats
    await waitFor(() => s.assembler.runs.get('run-1')?.state === 'failed', WAIT_MS,
                  'the service to fail the silent run');
    s.close();
  });
});
