// The Vercel AI SDK end to end, on a real local stack: a writer PROCESS runs the real `ai` package
// (streamText with the mock language model: reasoning, text, a tool call with streamed input, a
// source, a data part) and pipes it into the session with streamToSession; THIS process reads the
// reply through DurableChatTransport — the same UI message, also across forced reconnects, a
// reload and a hydrate mid-reply — and stops it: the model's stream is aborted and the reply ends
// for every reader.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { readUIMessageStream } from 'ai';
import WebSocket from 'ws';
import { DurableSession } from '../../dist/index.js';
import { DurableChatTransport, toUIMessages } from '../../dist/ai.js';
import { WEB, startStack, token, WAIT_MS, waitFor } from '../support/stack.js';

let stack;
let clientToken;
const writers = {};

function startWriter(agentUrl, agentToken, env = {}) {
  const child = spawn(process.execPath, [path.join(WEB, 'test/support/chat-server.js')], {
    cwd: WEB, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, DS_AGENT_URL: agentUrl, DS_AGENT_TOKEN: agentToken, ...env },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`writer exited ${code}: ${out}`)));
  });
}

before(async () => {
  stack = await startStack();
  const agentToken = token('ai-writer', 'agent');
  clientToken = token('user-1', 'client');
  // the helper over the WebSocket, and over the HTTP API; a fast model and a slow one
  writers.fast = await startWriter(stack.wsUrl, agentToken, { DS_MODEL_WORDS: '60', DS_MODEL_DELAY_MS: '5' });
  writers.slow = await startWriter(stack.wsUrl, agentToken, { DS_MODEL_WORDS: '150', DS_MODEL_DELAY_MS: '25' });
  writers.http = await startWriter(stack.httpUrl, agentToken, { DS_MODEL_WORDS: '400', DS_MODEL_DELAY_MS: '20' });
});

// whatever a test opened is closed after it, passed or failed (an open socket keeps the process alive)
const opened = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

after(async () => {
  for (const w of Object.values(writers)) w.stop();
  await stack?.stop();
});

let n = 0;
const newSessionId = (name) => `ai-${name}-${Date.now().toString(36)}-${++n}`;

function openSession(sessionId, { storage = null, instance } = {}) {
  const s = new DurableSession({ url: stack.wsUrl, sessionId, WebSocket, storage, instance,
                                 connectQuery: ({ instance: i }) => `token=${clientToken}&instance=${i}` }).start();
  opened.push(s);
  return s;
}

const user = (text, id = `u-${++n}`) => ({ id, role: 'user', parts: [{ type: 'text', text }] });

/** Reads a chunk stream to the end: the final UI message and the chunk types seen. */
async function read(stream, onMessage = () => {}) {
  const types = [];
  const counted = stream.pipeThrough(new TransformStream({ transform(c, ctl) { types.push(c.type); ctl.enqueue(c); } }));
  let last = null;
  for await (const m of readUIMessageStream({ stream: counted })) { last = m; onMessage(m); }
  return { message: last, types };
}

/** The comparable form: JSON (no undefined fields), reasoning parts without their provider-given ids. */
function normal(m) {
  const c = JSON.parse(JSON.stringify(m));
  for (const p of c.parts) if (p.type === 'reasoning') delete p.id;
  return c;
}

const textOf = (m) => m.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');

async function writerRun(writer, runId) {
  return waitFor(async () => {
    const r = await (await fetch(`${writer.url}/api/runs/${runId}`)).json();
    return r.outcome && r.expected ? r : null;
  }, WAIT_MS, `the writer's outcome of ${runId}`);
}

function runIdOf(session) {
  return [...session.assembler.runs.values()].at(-1)?.runId;
}

describe('Vercel AI SDK over a durable session', { concurrency: false }, () => {
  test('a reply written by streamText in one process reads the same through the ChatTransport in another', async () => {
    const sessionId = newSessionId('same');
    const session = openSession(sessionId);
    const counts = {};
    session.on('event', (e) => { counts[e.type] = (counts[e.type] ?? 0) + 1; });
    const transport = new DurableChatTransport({ session, api: `${writers.fast.url}/api/chat` });
    const question = user('What is the weather in Paris?');
    const stream = await transport.sendMessages({ trigger: 'submit-message', chatId: sessionId, messageId: undefined,
                                                  messages: [question], abortSignal: undefined });
    const { message, types } = await read(stream);
    const runId = runIdOf(session);
    const w = await writerRun(writers.fast, runId);
    assert.deepEqual(w.outcome, { status: 'completed' });
    assert.deepStrictEqual(normal(message), normal(w.expected), 'the reader sees the writer\'s UI message');
    const kinds = message.parts.map((p) => p.type);
    assert.deepEqual(kinds, ['data-card', 'step-start', 'reasoning', 'text', 'tool-weather', 'step-start', 'text', 'source-url']);
    assert.equal(message.parts[4].state, 'output-available');
    assert.deepEqual(message.parts[4].input, { city: 'Paris' });
    assert.ok(types.includes('tool-input-delta'), 'tool input streamed');
    assert.ok(types.at(-1) === 'finish', `ends with finish: ${types.slice(-3)}`);
    // coalesced: 75 words of text and 5 of reasoning in far fewer events
    assert.ok(counts['text.delta'] < 20, `text deltas coalesced: ${counts['text.delta']}`);

    // the session holds the same conversation: a new tab hydrates it
    const fresh = openSession(sessionId);
    await fresh.whenSynced();
    const ui = toUIMessages(fresh.state);
    assert.equal(ui.length, 2);
    assert.deepStrictEqual(ui[0], question);
    assert.deepStrictEqual(normal(ui[1]), normal(w.expected));
    fresh.close();
    session.close();
  });

  test('forced reconnects, a reload and a new tab mid-reply all end with the same UI message', async () => {
    const sessionId = newSessionId('resume');
    const storage = new Map();
    const store = { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, v), removeItem: (k) => storage.delete(k) };
    const session = openSession(sessionId, { storage: store, instance: 'tab-a' });
    const transport = new DurableChatTransport({ session, api: `${writers.slow.url}/api/chat` });
    const stream = await transport.sendMessages({ trigger: 'submit-message', chatId: sessionId, messageId: undefined,
                                                  messages: [user('and tomorrow?')], abortSignal: undefined });
    let drops = 0;
    const first = read(stream, (m) => {
      // cut the connection a few times while the reply streams
      if (session.connected && textOf(m).length > 150 * (drops + 1) && drops < 3) { drops++; session.dropConnection(); }
    });
    await waitFor(() => textOf(toUIMessages(session.state).at(-1) ?? { parts: [] }).length > 200, WAIT_MS, 'the reply to stream');

    // a reload: the same tab's saved state and last seq, resumed after it (no hydrate)
    // the tab saves at most every 250 ms: wait for its save (a timer can be late on a busy machine)
    await waitFor(() => store.getItem(`ds.session.${sessionId}`) !== null, WAIT_MS, 'the tab\'s saved state');
    const reloaded = openSession(sessionId, { storage: store, instance: 'tab-a' });
    assert.ok(reloaded.isSynced, 'restored from the saved state');
    const afterReload = new DurableChatTransport({ session: reloaded });
    const resumed = read(await afterReload.reconnectToStream({ chatId: sessionId }));

    // a new tab: hydrates the snapshot mid-reply, then tails it
    const tab = openSession(sessionId);
    const fromTab = read(await new DurableChatTransport({ session: tab }).reconnectToStream({ chatId: sessionId }));

    const [a, b, c] = await Promise.all([first, resumed, fromTab]);
    const w = await writerRun(writers.slow, runIdOf(session));
    assert.ok(drops >= 2, `connections dropped: ${drops}`);
    await waitFor(() => session.stats.connects >= drops + 1, WAIT_MS, `a reconnect after each of ${drops} drops`);
    for (const [name, r] of [['after reconnects', a], ['after a reload', b], ['in a new tab', c]]) {
      assert.deepStrictEqual(normal(r.message), normal(w.expected), name);
      assert.equal(r.types.at(-1), 'finish', name);
    }
    for (const s of [session, reloaded, tab]) s.close();
  });

  test('a stop aborts the model\'s stream and ends the reply for every reader', async () => {
    const sessionId = newSessionId('stop');
    const a = openSession(sessionId);
    const b = openSession(sessionId);
    const abort = new AbortController();
    const stream = await new DurableChatTransport({ session: a, api: `${writers.http.url}/api/chat` })
      .sendMessages({ trigger: 'submit-message', chatId: sessionId, messageId: undefined,
                      messages: [user('a long answer, please')], abortSignal: abort.signal });
    const readerA = read(stream, (m) => { if (textOf(m).length > 300 && !abort.signal.aborted) abort.abort(); })
      .catch((e) => ({ error: e }));
    await b.whenSynced();
    await waitFor(() => b.assembler.runs.size > 0 && [...b.assembler.messages.values()].some((m) => m.role === 'assistant'),
                  WAIT_MS, 'tab B to see the reply');
    const readerB = read(await new DurableChatTransport({ session: b }).reconnectToStream({ chatId: sessionId }));

    const rb = await readerB;
    assert.equal(rb.types.at(-1), 'abort', `tab B's stream ends with abort: ${rb.types.slice(-3)}`);
    await readerA;
    const runId = runIdOf(a);
    const w = await writerRun(writers.http, runId);
    assert.deepEqual(w.outcome, { status: 'stopped' });
    assert.equal(w.calls.aborted, true, 'the model\'s stream was aborted');
    assert.ok(w.calls.finished === 0, 'the model did not finish');

    // the log says so for every reader: stopped at one seq, acknowledged, and nothing after
    await waitFor(() => a.assembler.runs.get(runId)?.state === 'stopped', WAIT_MS, 'run.stopped');
    const run = a.assembler.runs.get(runId);
    assert.ok(run.stoppedAtSeq > 0);
    const stateA = toUIMessages(a.state).at(-1);
    await new Promise((r) => setTimeout(r, 1000)); // the model would have written ~50 more words
    await waitFor(() => b.lastSeq === a.lastSeq, WAIT_MS, 'tab B caught up');
    assert.deepStrictEqual(toUIMessages(b.state).at(-1), toUIMessages(a.state).at(-1));
    assert.equal(textOf(toUIMessages(a.state).at(-1)), textOf(stateA), 'no text after the stop');
    assert.equal(textOf(rb.message), textOf(stateA), 'tab B read all of it');
    assert.ok(textOf(stateA).length < 400 * 6, 'the reply was cut short');
    const reply = a.state.items.find((i) => i.kind === 'message' && i.role === 'assistant');
    assert.equal(reply.status, 'interrupted', 'the stopped reply shows as interrupted');
    a.close();
    b.close();
  });
});
