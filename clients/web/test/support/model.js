// A paced, scripted language model (the ai package's MockLanguageModelV4): step 1 reasons, writes
// text and calls the `weather` tool with streamed input; step 2 writes more text and cites a
// source. It records whether streamText aborted its stream (a client's Stop).
import { randomUUID } from 'node:crypto';
import { MockLanguageModelV4 } from 'ai/test';

const usage = { inputTokens: { total: 10, noCache: 10 }, outputTokens: { total: 20, text: 20 } };

export function words(n, prefix = 'word') {
  return Array.from({ length: n }, (_, i) => `${prefix}${i} `);
}

function step1(textWords) {
  const call = `call-${randomUUID()}`;
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'reasoning-start', id: 'r1' },
    ...['Let ', 'me ', 'check ', 'the ', 'weather.'].map((delta) => ({ type: 'reasoning-delta', id: 'r1', delta })),
    { type: 'reasoning-end', id: 'r1' },
    { type: 'text-start', id: 't1' },
    ...words(textWords).map((delta) => ({ type: 'text-delta', id: 't1', delta })),
    { type: 'text-end', id: 't1' },
    { type: 'tool-input-start', id: call, toolName: 'weather' },
    ...['{"ci', 'ty":"Pa', 'ris"}'].map((delta) => ({ type: 'tool-input-delta', id: call, delta })),
    { type: 'tool-input-end', id: call },
    { type: 'tool-call', toolCallId: call, toolName: 'weather', input: '{"city":"Paris"}' },
    { type: 'finish', finishReason: { unified: 'tool-calls', raw: undefined }, usage },
  ];
}

function step2(textWords) {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't2' },
    ...words(Math.max(3, Math.floor(textWords / 4)), 'sunny').map((delta) => ({ type: 'text-delta', id: 't2', delta })),
    { type: 'text-end', id: 't2' },
    { type: 'source', sourceType: 'url', id: 'src-1', url: 'https://example.com/weather/paris', title: 'Paris weather' },
    { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage },
  ];
}

/**
 * @param textWords  words of text in step 1 (step 2 writes a quarter)
 * @param delayMs    pause before each chunk
 */
export function scriptedModel({ textWords = 40, delayMs = 10 } = {}) {
  const calls = { steps: 0, chunks: 0, aborted: false, finished: 0 };
  const model = new MockLanguageModelV4({
    doStream: async ({ abortSignal }) => {
      const chunks = calls.steps++ === 0 ? step1(textWords) : step2(textWords);
      let i = 0;
      return {
        stream: new ReadableStream({
          async pull(controller) {
            await new Promise((r) => setTimeout(r, delayMs));
            if (abortSignal?.aborted) {
              calls.aborted = true;
              controller.error(abortSignal.reason ?? new Error('aborted'));
              return;
            }
            if (i >= chunks.length) { calls.finished++; controller.close(); return; }
            calls.chunks++;
            controller.enqueue(chunks[i++]);
          },
          cancel() { if (i < chunks.length) calls.aborted = true; },
        }),
      };
    },
  });
  return { model, calls };
}
