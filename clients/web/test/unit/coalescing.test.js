// The TypeScript agent's Coalescer against fixtures/coalescing.json, which the Java ReplyCoalescer
// generates (clients/java/…/CoalescingFixtureTest): the same text written at the same moments is
// appended alike by both agents, on a virtual clock whose window timers fire on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Coalescer, DEFAULT_COALESCE_WINDOW_MS, splitText } from '../../dist/agent.js';

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/coalescing.json');
const java = JSON.parse(readFileSync(FILE, 'utf8'));

/** What the Coalescer sends for a scenario's steps: {at, key, type, text} per piece, as the Java one records them. */
function replay(scenario) {
  let now = 0;
  let order = 0;
  let timers = [];
  const clock = {
    now: () => now,
    schedule: (fn, ms) => {
      const t = { due: now + ms, order: order++, fn, live: true };
      timers.push(t);
      return () => { t.live = false; };
    },
  };
  const fireUntil = (until) => {
    for (;;) {
      timers = timers.filter((t) => t.live);
      timers.sort((a, b) => a.due - b.due || a.order - b.order);
      const t = timers[0];
      if (!t || t.due > until) return;
      timers.shift();
      now = Math.max(now, t.due);
      t.fn();
    }
  };
  const sent = [];
  const c = new Coalescer(scenario.windowMs, scenario.maxBytes, clock, (h) => {
    if (h.start) sent.push({ at: now, key: h.key, type: 'message.start', text: '' });
    if (!h.text) return;
    // the agent splits held text into events of at most maxBytes, as the Java coalescer's pieces
    for (const piece of splitText(h.text, scenario.maxBytes)) sent.push({ at: now, key: h.key, type: h.type, text: piece });
  });
  for (const step of scenario.steps) {
    fireUntil(step.at);
    now = step.at;
    if (step.flushAll) c.flushAll();
    else if (step.start) c.start(step.key, 'run-1', { messageId: step.key, role: 'assistant' });
    else c.add(step.key, step.type, 'run-1', { messageId: step.key }, step.text);
  }
  fireUntil(Number.MAX_SAFE_INTEGER);
  return sent;
}

test('the default window is the Java Coalescing.DEFAULT_WINDOW', () => {
  assert.equal(DEFAULT_COALESCE_WINDOW_MS, java.defaultWindowMs);
});

for (const scenario of java.scenarios) {
  test(`coalescing: ${scenario.name}`, () => {
    assert.deepStrictEqual(replay(scenario), scenario.sent);
  });
}
