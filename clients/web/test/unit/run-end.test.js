// A run's end ends the run's replies that are still open, in the same append: run.complete() alone finishes
// a run's last reply in one append (reply.end(); run.complete() takes two). The Java SDK does the same
// (DurableAgentTest: aRunsEndEndsItsOpenRepliesInTheSameAppendWithTheirLastText and the two after it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableAgent } from '../../dist/agent.js';

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** Stores every append; `refuse(append)` may answer one with a refusal instead. */
function service(refuse = () => null) {
  const s = { appends: [], head: 0 };
  s.fetch = async (url, init) => {
    if (url.endsWith('/ack') || url.endsWith('/heartbeat')) return json(200, { control: [] });
    const append = JSON.parse(init.body);
    s.appends.push(append.events.map((e) => [e.type, e.data.messageId ?? '', e.data.text ?? e.data.reason ?? ''].join(':')));
    const refusal = refuse(append);
    if (refusal) return json(409, refusal);
    const first = s.head + 1;
    s.head += append.events.length;
    return json(200, { firstSeq: first, lastSeq: s.head, duplicate: false });
  };
  return s;
}

// a long window: text written after a reply's first is held until something else is appended
const connect = (svc) => DurableAgent.connect({
  url: 'http://service.test', sessionId: 's', producerId: 'p1', epoch: 1, coalesceWindowMs: 30_000,
  heartbeatIntervalMs: 3_600_000, backoff: { initialMs: 1, maxMs: 2 }, fetch: svc.fetch,
});

test("run.complete() ends the run's open replies in its own append, with their last text", async () => {
  const svc = service();
  const agent = await connect(svc);
  try {
    const run = await agent.startRun('r');
    const reply = run.startReply('m');
    reply.text('first words '); // at once, with the start
    await agent.flush();
    const unstarted = run.startReply('m2'); // no text yet: its start is held
    reply.text('last words'); // held: within the window of the last send
    const before = svc.appends.length;
    assert.equal(await run.complete(), true);
    assert.deepEqual(svc.appends.slice(before), [[
      'message.start:m2:', 'text.delta:m:last words', 'message.end:m:', 'message.end:m2:', 'run.completed::',
    ]]);
    assert.equal(await reply.end(), false, 'already ended');
    assert.equal(await unstarted.end(), false, 'already ended');
    assert.equal(svc.appends.length, before + 1, 'nothing more is written');
  } finally {
    await agent.close();
  }
});

test("run.fail() ends an open reply with reason error and leaves an ended one alone", async () => {
  const svc = service();
  const agent = await connect(svc);
  try {
    const run = await agent.startRun('r');
    const done = run.startReply('m1');
    done.text('an answer');
    assert.equal(await done.end(), true);
    const open = run.startReply('m2');
    open.text('half an answer');
    await agent.flush();
    const before = svc.appends.length;
    assert.equal(await run.fail('the model went away'), true);
    assert.deepEqual(svc.appends.slice(before), [['message.end:m2:error', 'run.failed::the model went away']]);
  } finally {
    await agent.close();
  }
});

test("a run's end writes no end for a reply interrupted meanwhile", async () => {
  let interrupt = false;
  const svc = service((append) => interrupt && append.events.some((e) => e.data.messageId === 'm')
    ? { code: 'MESSAGE_FENCED', detail: 'interrupted', details: { messageId: 'm' } }
    : null);
  const agent = await connect(svc);
  try {
    const run = await agent.startRun('r');
    const reply = run.startReply('m');
    reply.text('first words');
    await agent.flush();
    interrupt = true;
    reply.text('interrupted'); // held
    assert.equal(await run.complete(), true, "the reply's text and end are refused, the run's end is stored");
    assert.equal(reply.isFenced, true);
    assert.deepEqual(svc.appends.slice(-2), [
      ['text.delta:m:interrupted', 'message.end:m:', 'run.completed::'],
      ['run.completed::'],
    ]);
  } finally {
    await agent.close();
  }
});
