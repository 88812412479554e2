// A tiny React page (useChat + DurableChatTransport + useDurableSession, bundled with esbuild) in
// Chromium, against a real local stack and a back end that runs streamText with the mock model
// through streamToSession: a reload mid-reply resumes, a second tab shows the same conversation
// live, Stop stops the model and the reply for every tab.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { build } from 'esbuild';
import { OUT, WEB, startBrowser, startStack, token, WAIT_MS, waitFor } from '../support/stack.js';
import { startChatServer } from '../support/chat-server.js';

let stack;
let browser;
let chat;

before(async () => {
  const started = Date.now();
  await build({
    entryPoints: [path.join(WEB, 'test/browser/react-app/app.tsx')],
    outfile: path.join(OUT, 'react-app/app.js'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', jsx: 'automatic', minify: true,
    define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'warning',
  });
  console.log(`# bundled the React page in ${Date.now() - started} ms`);
  stack = await startStack();
  const agentToken = token('ai-backend', 'agent');
  chat = await startChatServer({
    agent: { url: stack.wsUrl, connectQuery: () => `token=${agentToken}` },
    model: { textWords: 300, delayMs: 20 },
    config: { wsUrl: stack.wsUrl, token: token('react-user', 'client') },
    pages: {
      '/': { file: path.join(WEB, 'test/browser/react-app/index.html'), type: 'text/html; charset=utf-8' },
      '/app.js': { file: path.join(OUT, 'react-app/app.js'), type: 'text/javascript; charset=utf-8' },
    },
  });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await chat?.close();
  await stack?.stop();
});

let n = 0;
const newSession = (name) => `react-${name}-${Date.now().toString(36)}-${++n}`;

async function openTab(session) {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${chat.url}/?session=${session}`);
  await page.waitForSelector('#conn[data-state="connected"]', { timeout: WAIT_MS });
  return page;
}

const view = (page) => page.evaluate(() => window.__chat);
const assistantText = async (page) => {
  const v = await view(page);
  const m = v.messages.findLast((x) => x.role === 'assistant');
  return m ? m.parts.filter((p) => p.type === 'text').map((p) => p.text).join('') : '';
};

/** What a page shows, for a failure's message. */
async function seen(page) {
  const v = await view(page).catch((e) => ({ error: String(e) }));
  const events = await page.evaluate(() => (window.__events ?? []).slice(-12)).catch(() => []);
  return JSON.stringify({
    status: v.status, error: v.error, session: v.session,
    messages: v.messages?.map((m) => ({ id: m.id, role: m.role, parts: m.parts.map((p) => `${p.type}${p.state ? `:${p.state}` : ''}`) })),
    lastEvents: events,
  });
}

async function send(page, text) {
  await page.fill('#prompt', text);
  await page.click('#send');
}

function normal(m) {
  const c = JSON.parse(JSON.stringify(m));
  for (const p of c.parts) if (p.type === 'reasoning') delete p.id;
  return c;
}

/** The run the back end opened last for a session (read there: a background tab may not have rendered it yet). */
function lastRunOf(session) {
  return [...chat.runs.entries()].filter(([, r]) => r.sessionId === session).map(([id]) => id).at(-1);
}

async function expectedReply(runId) {
  return waitFor(() => chat.runs.get(runId)?.expected && chat.runs.get(runId).outcome ? chat.runs.get(runId) : null,
                 WAIT_MS, 'the back end\'s reply');
}

describe('useChat over a durable session in Chromium', { concurrency: false }, () => {
  test('a reload mid-reply resumes the same reply', async () => {
    const s = newSession('reload');
    const page = await openTab(s);
    await send(page, 'weather in Paris?');
    await waitFor(async () => (await assistantText(page)).length > 200, WAIT_MS, 'the reply to stream');
    const before = await assistantText(page);
    await page.reload();
    await page.waitForSelector('#conn[data-state="connected"]', { timeout: WAIT_MS });
    // resumed: streaming again, from where the session is, not from scratch
    await waitFor(async () => (await view(page)).status === 'streaming', WAIT_MS, 'the resumed stream');
    assert.ok((await assistantText(page)).startsWith(before.slice(0, 100)));
    await waitFor(async () => (await view(page)).status === 'ready'
      && (await page.locator('.tool[data-state="output-available"]').count()) === 1
      && (await page.locator('.source').count()) === 1, WAIT_MS, 'the reply to end')
      .catch(async (e) => { throw new Error(`${e.message}; the page saw ${await seen(page)}`); });
    const v = await view(page);
    const { expected, outcome } = await expectedReply(lastRunOf(s));
    assert.deepEqual(outcome, { status: 'completed' });
    await waitFor(async () => isDeepStrictEqual(normal((await view(page)).messages.at(-1)), normal(expected)),
                  WAIT_MS, 'the page to show the reply as written');
    assert.equal(v.messages.length, 2);
    assert.equal(v.messages[0].role, 'user');
    assert.equal(await page.locator('.card[data-status="done"]').count(), 1);
    await page.screenshot({ path: path.join(OUT, 'react-chat.png'), fullPage: true });
    await page.close();
  });

  test('a second tab shows the same conversation, live', async () => {
    const s = newSession('two');
    const a = await openTab(s);
    const b = await openTab(s);
    await send(a, 'and in Rome?');
    // tab B did not send: it follows the reply as it streams
    await waitFor(async () => (await view(b)).status === 'streaming' && (await assistantText(b)).length > 20, WAIT_MS,
                  'tab B to stream the reply');
    await waitFor(async () => (await view(a)).status === 'ready' && (await view(b)).status === 'ready'
      && (await b.locator('.source').count()) === 1, WAIT_MS, 'both tabs to finish');
    // a subscriber creates no session: the tabs were announced when the first message created it
    await waitFor(async () => (await a.locator('#presence i').count()) >= 2, WAIT_MS, 'both tabs present');
    await waitFor(async () => isDeepStrictEqual((await view(a)).messages.map(normal), (await view(b)).messages.map(normal)),
                  WAIT_MS, 'the same conversation in both tabs');
    const { expected } = await expectedReply(lastRunOf(s));
    assert.deepStrictEqual(normal((await view(b)).messages.at(-1)), normal(expected));
    assert.equal((await view(b)).messages[0].parts[0].text, 'and in Rome?');
    await a.close();
    await b.close();
  });

  test('Stop stops the model and ends the reply in every tab', async () => {
    const s = newSession('stop');
    const a = await openTab(s);
    const b = await openTab(s);
    await send(a, 'a long answer please');
    await waitFor(async () => (await assistantText(b)).length > 150, WAIT_MS, 'the reply in tab B');
    await a.click('#stop', { force: true });
    await waitFor(async () => (await view(a)).status === 'ready' && (await view(b)).status === 'ready', WAIT_MS,
                  'both tabs to stop streaming');
    const r = await expectedReply(lastRunOf(s));
    assert.deepEqual(r.outcome, { status: 'stopped' });
    assert.equal(r.calls.aborted, true, 'the model\'s stream was aborted');
    await waitFor(async () => (await view(b)).session.runs.at(-1)?.state === 'stopped', WAIT_MS, 'run.stopped in tab B');
    const text = await assistantText(b);
    await new Promise((res) => setTimeout(res, 1000)); // the model would have written ~50 more words
    assert.equal(await assistantText(b), text, 'nothing after the stop');
    await waitFor(async () => (await assistantText(a)) === text, WAIT_MS, 'tab A shows the same text');
    assert.ok(text.length < 300 * 6, 'the reply was cut short');
    assert.ok(!(await a.isDisabled('#send').catch(() => true)), 'tab A can send again');
    await a.close();
    await b.close();
  });

  test('useDurableSession: send, steer, interrupt and stop from the hook', async () => {
    const s = newSession('hook');
    const page = await openTab(s);
    const items = () => page.evaluate(() => window.__ds.state.items);
    const events = () => page.evaluate(() => window.__events ?? []);

    await page.click('#ds-send');
    await waitFor(async () => (await items()).some((i) => i.role === 'user' && i.text === 'a note from useDurableSession'),
                  WAIT_MS, 'the note in the hook\'s state');
    await waitFor(async () => (await view(page)).messages.some((m) => m.parts[0]?.text === 'a note from useDurableSession'),
                  WAIT_MS, 'the note in useChat (synced from the session)');

    await send(page, 'first question');
    await waitFor(async () => (await assistantText(page)).length > 100, WAIT_MS, 'a reply');
    await page.click('#ds-steer', { force: true });
    await waitFor(async () => (await events()).includes('run.steered'), WAIT_MS, 'run.steered');
    await page.click('#ds-interrupt', { force: true });
    await waitFor(async () => (await view(page)).status === 'ready', WAIT_MS, 'the interrupted reply to end');
    const interrupted = await expectedReply(lastRunOf(s));
    assert.deepEqual(interrupted.outcome, { status: 'interrupted' });
    assert.equal(interrupted.calls.aborted, true, 'the interrupt aborted the model\'s stream');
    await waitFor(async () => (await items()).filter((i) => i.role === 'assistant').at(-1)?.status === 'interrupted',
                  WAIT_MS, 'the reply shown interrupted');

    await send(page, 'second question');
    await waitFor(async () => (await view(page)).status === 'streaming' && (await assistantText(page)).length > 100,
                  WAIT_MS, 'the second reply');
    await page.click('#ds-stop', { force: true });
    const stopped = await waitFor(async () => {
      const r = await expectedReply(lastRunOf(s));
      return r.outcome.status === 'stopped' ? r : null;
    }, WAIT_MS, 'the second reply to stop');
    assert.equal(stopped.calls.aborted, true);
    await waitFor(async () => (await view(page)).status === 'ready', WAIT_MS, 'the chat to be ready');
    await waitFor(async () => (await page.evaluate(() => window.__ds.state.runs.at(-1)?.state)) === 'stopped', WAIT_MS, 'run.stopped');
    await page.close();
  });
});
