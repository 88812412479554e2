// Several appends in flight under one producer (maxInFlight), without a stack: the agent talks HTTP to a
// fake fetch that models the service's producer rule (docs/protocol.md §2, producer.pipeline) — it stores
// a producer's appends in seq order, answers a stored seq as a duplicate, holds a seq whose predecessors
// are on their way (here 300 ms), then refuses it PRODUCER_GAP with the seq it expects. The Java SDK is
// checked against the same model in PipelineTest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableAgent } from '../../dist/agent.js';

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** The service in miniature; `firstAnswer(seq)` may answer a seq's first attempt instead ('lost' or null). */
function orderedService({ firstAnswer = () => null, holdScriptedMs = 0 } = {}) {
  const s = { stored: [], storedSeqs: [], expected: 0, head: 0, gaps: 0, highestSeq: -1, answeredOnce: new Set() };
  const waitFor = async (cond, ms) => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() >= deadline) return false;
      await pause(2);
    }
    return true;
  };
  const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const gap = () => {
    s.gaps++;
    return json(409, { code: 'PRODUCER_GAP', detail: 'gap', details: { expectedSeq: s.expected } });
  };
  s.erase = () => { s.stored = []; s.storedSeqs = []; s.expected = 0; };
  s.fetch = async (url, init) => {
    const append = JSON.parse(init.body);
    const seq = append.producer.seq;
    s.highestSeq = Math.max(s.highestSeq, seq);
    if (!s.answeredOnce.has(seq)) {
      s.answeredOnce.add(seq);
      const scripted = firstAnswer(seq);
      if (scripted) {
        await waitFor(() => s.highestSeq > seq, 5000); // the ones behind it are on their way
        await pause(holdScriptedMs);
        if (scripted === 'lost') throw new TypeError('fetch failed: connection reset');
      }
    }
    await pause(2); // an answer takes a moment: the agent sends more meanwhile
    if (seq < s.expected) return json(200, { firstSeq: 0, lastSeq: 0, duplicate: true });
    if (seq - s.expected >= 16) return gap();
    if (!(await waitFor(() => s.expected >= seq, 300))) return gap();
    if (seq < s.expected) return json(200, { firstSeq: 0, lastSeq: 0, duplicate: true });
    const first = s.head + 1;
    s.storedSeqs.push(seq);
    for (const e of append.events) {
      s.head++;
      s.stored.push(e.data.n);
    }
    s.expected = seq + 1;
    return json(200, { firstSeq: first, lastSeq: s.head, duplicate: false });
  };
  return s;
}

const connect = (service, maxInFlight = 4) => DurableAgent.connect({
  url: 'http://service.test', sessionId: 's', producerId: 'p1', epoch: 1, maxInFlight,
  coalesceWindowMs: 0, heartbeatIntervalMs: 3_600_000, backoff: { initialMs: 1, maxMs: 2 },
  fetch: service.fetch,
});

const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);
const appendMany = (agent, from, to) => range(from, to).map((n) => agent.append('custom', { n }));

test('a producer keeps several appends in flight and they are stored in call order', async () => {
  const service = orderedService();
  const agent = await connect(service);
  try {
    assert.deepEqual(await Promise.all(appendMany(agent, 0, 2000)), range(0, 2000).map(() => true));
    assert.deepEqual(service.stored, range(0, 2000));
  } finally {
    await agent.close();
  }
});

test('a gap expecting seq 0 while seq 0 is still on its way is an ordinary gap, not a forgotten producer', async () => {
  // seq 0 is late (its first answer is lost after the hold): seq 1 is refused PRODUCER_GAP expecting 0, which an
  // erased session's service would say too; but seq 0 was never acked, so nothing was forgotten
  const service = orderedService({ firstAnswer: (seq) => (seq === 0 ? 'lost' : null), holdScriptedMs: 400 });
  const agent = await connect(service);
  try {
    assert.deepEqual(await Promise.all(appendMany(agent, 0, 2000)), range(0, 2000).map(() => true));
    assert.deepEqual(service.stored, range(0, 2000));
    assert.ok(service.gaps > 0, 'the late seq 0 made the ones behind it wait in vain at least once');
  } finally {
    await agent.close();
  }
});

test('when the service forgets the producer its session was erased and the seqs start over at 0', async () => {
  const service = orderedService();
  const agent = await connect(service);
  try {
    for (const n of range(0, 5)) assert.equal(await agent.append('custom', { n }), true);
    service.erase(); // DELETE /v1/sessions/{id}: the events and the producer's state are gone
    assert.deepEqual(await Promise.all(appendMany(agent, 5, 10)), [true, true, true, true, true]);
    assert.deepEqual(service.stored, [5, 6, 7, 8, 9]);
    assert.equal(service.storedSeqs[0], 0);
  } finally {
    await agent.close();
  }
});
