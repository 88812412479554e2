// The agent's text splitting: every delta event stays under the size limit once JSON-escaped and
// UTF-8 encoded, and a split never cuts a surrogate pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodedBytes, splitText } from '../../dist/agent.js';

test('encoded size counts JSON escapes and UTF-8 bytes', () => {
  assert.equal(encodedBytes('abc'), 3);
  assert.equal(encodedBytes('"\\'), 4);
  assert.equal(encodedBytes('\n'), 6);
  assert.equal(encodedBytes('é'), 2);
  assert.equal(encodedBytes('€'), 3);
  assert.equal(encodedBytes('😀'), 4);
  assert.ok(Buffer.byteLength(JSON.stringify('a"é€😀\n').slice(1, -1)) <= encodedBytes('a"é€😀\n'));
});

test('split text joins back, each chunk within the budget, no pair cut in half', () => {
  const text = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? '😀' : i % 5 === 0 ? '"é\n' : `w${i} `)).join('');
  for (const budget of [64, 100, 1000, 16 * 1024]) {
    const chunks = splitText(text, budget);
    assert.equal(chunks.join(''), text);
    for (const c of chunks) {
      assert.ok(encodedBytes(c) <= budget, `${encodedBytes(c)} > ${budget}`);
      assert.ok(!/^[\udc00-\udfff]/.test(c) && !/[\ud800-\udbff]$/.test(c), 'a surrogate pair was cut');
      assert.ok(Buffer.byteLength(JSON.stringify(c)) - 2 <= budget);
    }
  }
});
