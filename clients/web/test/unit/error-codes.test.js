// The TypeScript client's error-code table against fixtures/error-codes.json, which the Java ErrorCode
// generates (events/…/ErrorCodesFixtureTest): both clients retry exactly the same codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, isRetryable } from '../../dist/index.js';

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/error-codes.json');
const java = JSON.parse(readFileSync(FILE, 'utf8'));

test('every code, its HTTP status and its recovery are the Java ErrorCode table', () => {
  assert.deepStrictEqual(JSON.parse(JSON.stringify(ERROR_CODES)), java);
});

test('a code is retried exactly when Java says RETRY; unknown codes and no code are final', () => {
  for (const [code, { recovery }] of Object.entries(java)) {
    assert.equal(isRetryable(code), recovery === 'retry', code);
  }
  assert.equal(isRetryable('SOMETHING_NEW'), false);
  assert.equal(isRetryable(undefined), false);
  assert.equal(isRetryable('toString'), false);
});
