// A lost answer means "maybe stored": the agent re-sends the same producer seq with exactly the same
// events, even when something it learned meanwhile fenced them. Without a stack: the agent talks HTTP to
// a fake fetch that models the service (a stored seq is answered as a duplicate before any fence; a
// heartbeat of an ended run is refused RUN_FENCED with the run's state). The Java SDK's rule is the same
// (DurableAgent.send: "Not after a lost answer").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableAgent } from '../../dist/agent.js';

const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

async function until(cond, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() >= deadline) throw new Error(`gave up waiting for ${what}`);
    await pause(2);
  }
}

/**
 * One run's service: stores appends by producer seq; `loseAnswer(append, s)` may hold and then lose an answer;
 * a heartbeat's answer carries the control events in `s.control` (as the HTTP API's answers do).
 */
function service({ loseAnswer }) {
  const s = { events: [], expected: 0, runState: 'running', heartbeats: 0, heartbeatsRefused: 0, sends: [], control: [] };
  s.fetch = async (url, init) => {
    if (url.endsWith('/ack')) return json(200, {});
    if (url.endsWith('/heartbeat')) {
      s.heartbeats++;
      if (s.runState === 'running') return json(200, { control: s.control });
      s.heartbeatsRefused++;
      return json(409, { code: 'RUN_FENCED', detail: `run is ${s.runState}`, details: { runId: 'r', state: s.runState } });
    }
    const append = JSON.parse(init.body);
    const seq = append.producer.seq;
    s.sends.push({ seq, types: append.events.map((e) => e.type) });
    if (seq < s.expected) return json(200, { firstSeq: 0, lastSeq: 0, duplicate: true });
    if (seq > s.expected) return json(409, { code: 'PRODUCER_GAP', detail: 'gap', details: { expectedSeq: s.expected } });
    if (s.runState !== 'running') {
      return json(409, { code: 'RUN_FENCED', detail: 'fenced', details: { runId: 'r', state: s.runState, stoppedAtSeq: s.events.length } });
    }
    const first = s.events.length + 1;
    for (const e of append.events) {
      s.events.push(e.type);
      if (e.type === 'run.completed') s.runState = 'completed';
    }
    s.expected = seq + 1;
    if (await loseAnswer(append, s)) throw new TypeError('fetch failed: connection reset');
    return json(200, { firstSeq: first, lastSeq: s.events.length, duplicate: false });
  };
  return s;
}

const connect = (svc, onControl) => DurableAgent.connect({
  url: 'http://service.test', sessionId: 's', producerId: 'p1', epoch: 1, onControl,
  coalesceWindowMs: 0, heartbeatIntervalMs: 10, backoff: { initialMs: 1, maxMs: 2 }, fetch: svc.fetch,
});

const sendsOf = (svc, type) => svc.sends.filter((x) => x.types.includes(type));

test("a run.completed whose answer was lost while a heartbeat found the run completed still counts as the agent's", async () => {
  // the answer to run.completed is held until a heartbeat was refused with the run completed (and the agent
  // has taken that in), then lost: the re-send is answered as a duplicate and complete() is true
  let lost = false;
  const svc = service({
    loseAnswer: async (append, s) => {
      if (lost || !append.events.some((e) => e.type === 'run.completed')) return false;
      lost = true;
      await until(() => s.heartbeatsRefused > 0, 'a heartbeat that finds the run completed');
      await pause(20);
      return true;
    },
  });
  const told = [];
  const agent = await connect(svc, (e) => told.push(e.kind));
  try {
    const run = await agent.startRun('r');
    assert.equal(await run.complete(), true, `complete() after a lost answer (sends: ${JSON.stringify(svc.sends)})`);
    assert.deepEqual(svc.events, ['run.started', 'run.completed'], 'stored once');
    const again = sendsOf(svc, 'run.completed');
    assert.equal(again.length, 2, 'sent twice');
    assert.equal(again[0].seq, again[1].seq, 'under the same producer seq');
    assert.equal(agent.stats.duplicateAcks, 1, 'the re-send was answered as a duplicate');
    assert.deepEqual(told, [], 'the agent is not told of a fence it caused itself');
  } finally {
    await agent.close();
  }
});

test('a reply interrupted while its append was stored and the answer lost: the same events go again', async () => {
  // the append carrying the reply's text is stored and its answer held; meanwhile a heartbeat brings the
  // reply's interrupt, then the answer is lost. The seq goes again with the same events (a duplicate), not
  // with the fenced ones dropped: the service's duplicate answer speaks for what that seq stored.
  let lost = false;
  const svc = service({
    loseAnswer: async (append, s) => {
      if (lost || !append.events.some((e) => e.type === 'text.delta')) return false;
      lost = true;
      s.control = [{ type: 'run.interrupted', runId: 'r', seq: s.events.length + 1, data: { messageId: 'm' } }];
      const seen = s.heartbeats;
      await until(() => s.heartbeats > seen + 1, 'a heartbeat that brings the interrupt');
      await pause(20);
      return true;
    },
  });
  const told = [];
  const agent = await connect(svc, (e) => told.push(e.kind));
  try {
    const run = await agent.startRun('r');
    const reply = run.startReply('m');
    reply.text('hello');
    await until(() => told.includes('interrupt'), 'the interrupt reaching the agent');
    await until(() => agent.stats.duplicateAcks === 1 || svc.sends.length > 3, 'the re-send');
    const withText = sendsOf(svc, 'text.delta');
    assert.equal(withText.length, 2, `the text went twice (sends: ${JSON.stringify(svc.sends)})`);
    assert.deepEqual(withText[1], withText[0], 'the same seq with the same events');
    assert.equal(agent.stats.duplicateAcks, 1, 'answered as a duplicate');
    assert.equal(await run.complete(), true);
    assert.equal(svc.events.filter((t) => t === 'text.delta').length, 1, 'the text is stored once');
  } finally {
    await agent.close();
  }
});
