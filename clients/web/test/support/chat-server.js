// A product's back end in a few lines, as README.md shows it: POST /api/chat runs streamText (with
// the scripted model) and pipes it into the session with streamToSession. For the tests it also
// keeps, per run, the UI message the writer's own stream produced (the expected reply), the
// helper's outcome and whether the model's stream was aborted; and can serve a page.
//
// In-process: startChatServer({...}); as its own process: `node chat-server.js` with DS_AGENT_URL,
// DS_AGENT_TOKEN (and DS_MODEL_WORDS, DS_MODEL_DELAY_MS); it prints `READY <port>`.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertToModelMessages, isStepCount, jsonSchema, readUIMessageStream, streamText, tool } from 'ai';
import { streamToSession } from '../../dist/ai-server.js';
import { scriptedModel } from './model.js';

const tools = {
  weather: tool({
    description: 'the weather in a city',
    inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
    execute: async ({ city }) => ({ city, temperature: 21, unit: 'C' }),
  }),
};

/** Adds a data part that a later chunk replaces (same type and id), as product UIs do for progress. */
function withWeatherCard(stream) {
  return stream.pipeThrough(new TransformStream({
    transform(chunk, c) {
      c.enqueue(chunk);
      if (chunk.type === 'start') c.enqueue({ type: 'data-card', id: 'card', data: { status: 'loading' } });
      if (chunk.type === 'tool-output-available') {
        c.enqueue({ type: 'data-card', id: 'card', data: { status: 'done', ...chunk.output } });
      }
    },
  }));
}

async function lastMessage(stream) {
  let last = null;
  for await (const m of readUIMessageStream({ stream })) last = m;
  return last;
}

/**
 * @param agent        streamToSession's connection options: {url, connectQuery} or {url, bearerToken}
 * @param model        scriptedModel options ({textWords, delayMs})
 * @param pages        map of URL path -> {file, type} to serve; `config` is served at /config
 */
export async function startChatServer({ agent, model = {}, pages = {}, config = {}, port = 0 }) {
  const runs = new Map();
  const server = createServer(async (req, res) => {
    const send = (status, body, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(type === 'application/json' ? JSON.stringify(body) : body);
    };
    try {
      const url = new URL(req.url, 'http://x');
      if (req.method === 'POST' && url.pathname === '/api/chat') {
        let raw = '';
        for await (const c of req) raw += c;
        const { sessionId, runId, messages } = JSON.parse(raw);
        const record = { sessionId, expected: null, outcome: null, calls: null };
        const reply = await streamToSession({
          heartbeatIntervalMs: 1000, ...agent, sessionId, runId,
          stream: async ({ abortSignal, messageId }) => {
            const { model: m, calls } = scriptedModel(model);
            record.calls = calls;
            const result = streamText({ model: m, tools, stopWhen: isStepCount(3), abortSignal,
                                        messages: await convertToModelMessages(messages) });
            const ui = withWeatherCard(result.toUIMessageStream({ sendReasoning: true, sendSources: true,
                                                                  generateMessageId: () => messageId }));
            const [toSession, toExpected] = ui.tee();
            record.expectedDone = lastMessage(toExpected).then((msg) => { record.expected = msg; }, () => {});
            return toSession;
          },
        });
        runs.set(reply.runId, record);
        reply.done.then((o) => { record.outcome = o; });
        return send(202, { runId: reply.runId, messageId: reply.messageId });
      }
      if (req.method === 'GET' && url.pathname.startsWith('/api/runs/')) {
        const r = runs.get(decodeURIComponent(url.pathname.slice('/api/runs/'.length)));
        if (!r) return send(404, { error: 'no such run' });
        return send(200, { expected: r.expected, outcome: r.outcome, calls: r.calls });
      }
      if (req.method === 'GET' && url.pathname === '/config') return send(200, config);
      const page = pages[url.pathname];
      if (req.method === 'GET' && page) return send(200, await readFile(page.file), page.type);
      return send(404, { error: 'not found' });
    } catch (e) {
      return send(500, { error: String(e?.stack ?? e) });
    }
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    runs,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const url = process.env.DS_AGENT_URL;
  const token = process.env.DS_AGENT_TOKEN;
  const agent = url.startsWith('http') ? { url, bearerToken: () => token } : { url, connectQuery: () => `token=${token}` };
  const s = await startChatServer({
    agent,
    model: { textWords: Number(process.env.DS_MODEL_WORDS ?? 40), delayMs: Number(process.env.DS_MODEL_DELAY_MS ?? 10) },
  });
  console.log(`READY ${s.port}`);
}
