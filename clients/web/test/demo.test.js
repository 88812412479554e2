// Browser tests of the demo chat and durable-session.js: a real Chromium against a real local stack.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, expectedReply, startBrowser, startStack } from './stack.js';

const REPLY_TOKENS = 120;
let stack;
let browser;

before(async () => {
  stack = await startStack({ tokensPerSecond: 40, replyTokens: REPLY_TOKENS });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

let n = 0;
function newSession(name) {
  return `web-${name}-${Date.now().toString(36)}-${++n}`;
}

async function openTab(session) {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${stack.demoUrl}?session=${session}`);
  await page.waitForSelector('#conn[data-state="connected"]', { timeout: 20000 }).catch(() => {});
  return page;
}

async function send(page, text) {
  await page.fill('#prompt', text);
  await page.click('#send');
}

const assistant = (page) => page.locator('.msg[data-role="assistant"]');

async function assistantWords(page) {
  const texts = await assistant(page).locator('.text').allTextContents();
  return texts.join(' ').split(/\s+/).filter(Boolean).length;
}

async function waitFor(fn, timeoutMs = 30000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function replyDone(page) {
  await page.waitForSelector('.msg[data-role="assistant"][data-status="complete"]', { timeout: 30000 });
  return assistant(page).locator('.text').allTextContents();
}

describe('demo chat in Chromium', { concurrency: false }, () => {
  test('reloading mid-stream shows the full reply exactly once', async () => {
    const s = newSession('reload');
    const page = await openTab(s);
    await send(page, 'hello reload');
    await waitFor(async () => (await assistantWords(page)) >= 15, 20000, 'the reply to start streaming');
    await page.reload();
    const texts = await replyDone(page);
    assert.equal(texts.length, 1, 'one assistant message');
    assert.equal(texts[0], expectedReply('hello reload', REPLY_TOKENS));
    assert.equal(await page.locator('.msg[data-role="user"]').count(), 1, 'one user message');
    // a brand-new tab hydrates the same state
    const fresh = await openTab(s);
    await replyDone(fresh);
    assert.deepEqual(await assistant(fresh).locator('.text').allTextContents(), texts);
    await fresh.close();
    await page.close();
  });

  test('two tabs on one session see the same stream and each other', async () => {
    const s = newSession('two');
    const a = await openTab(s);
    const b = await openTab(s);
    await send(a, 'two tabs');
    await waitFor(async () => (await assistantWords(b)) >= 5, 20000, 'tab B to see the stream');
    assert.equal(await b.locator('.msg[data-role="assistant"][data-status="streaming"]').count(), 1);
    const [ta, tb] = [await replyDone(a), await replyDone(b)];
    assert.deepEqual(ta, [expectedReply('two tabs', REPLY_TOKENS)]);
    assert.deepEqual(tb, ta);
    await waitFor(async () => (await a.locator('#presence li').count()) >= 3, 10000, 'presence of both tabs and the agent');
    await a.screenshot({ path: path.join(OUT, 'demo.png'), fullPage: true });
    await a.close();
    await b.close();
  });

  test('Stop in tab A: both tabs show stopped at the same seq and the agent stops producing', async () => {
    const s = newSession('stop');
    const a = await openTab(s);
    const b = await openTab(s);
    await send(a, 'please stop me');
    await waitFor(async () => (await assistantWords(a)) >= 20, 20000, 'the reply to stream');
    await a.click('#stop');
    const stoppedA = await waitFor(async () => a.$eval('#run-state', (el) => el.dataset.state === 'stopped' && el.dataset.stoppedAt));
    const stoppedB = await waitFor(async () => b.$eval('#run-state', (el) => el.dataset.state === 'stopped' && el.dataset.stoppedAt));
    assert.ok(Number(stoppedA) > 0);
    assert.equal(stoppedB, stoppedA, 'the same stop seq in both tabs');
    await waitFor(async () => (await a.$eval('#run-state', (el) => el.textContent)).includes(`stopped at seq ${stoppedA}`));
    const textA = await assistant(a).locator('.text').allTextContents();
    await new Promise((r) => setTimeout(r, 1500)); // the agent would have written ~60 more words
    assert.deepEqual(await assistant(a).locator('.text').allTextContents(), textA, 'no text after the stop');
    assert.deepEqual(await assistant(b).locator('.text').allTextContents(), textA, 'tab B has the same text');
    assert.ok(textA[0].length < expectedReply('please stop me', REPLY_TOKENS).length, 'the reply was cut short');
    assert.equal(await a.locator('.msg[data-role="assistant"]').getAttribute('data-status'), 'interrupted');
    assert.ok(await a.locator('#stop').isDisabled(), 'nothing left to stop');
    // the run ends acknowledged: the log says so for every tab
    await waitFor(async () => a.evaluate(() => window.__ds.state.runs.at(-1)?.state === 'stopped'), 10000, 'run.stopped');
    await a.close();
    await b.close();
  });

  test('a network cut mid-stream reconnects and completes the reply', async () => {
    const s = newSession('cut');
    const page = await openTab(s);
    await send(page, 'cut the network');
    await waitFor(async () => (await assistantWords(page)) >= 10, 20000, 'the reply to stream');
    await page.evaluate(() => window.__ds.dropConnection());
    await new Promise((r) => setTimeout(r, 700));
    await page.evaluate(() => window.__ds.dropConnection());
    const texts = await replyDone(page);
    assert.deepEqual(texts, [expectedReply('cut the network', REPLY_TOKENS)]);
    const stats = await page.evaluate(() => window.__ds.stats);
    assert.ok(stats.connects >= 3, `reconnected (${JSON.stringify(stats)})`);
    await page.close();
  });

  test('a session erased on the server disappears from the tab, which does not reconnect to it', async () => {
    const session = newSession('erase');
    const page = await openTab(session);
    await send(page, 'erase me later');
    await replyDone(page);
    assert.ok(await page.evaluate((key) => sessionStorage.getItem(key) !== null, `ds.session.${session}`));
    // a back end erases it through the HTTP API (here with the page's own dev token, which may)
    const status = await page.evaluate(async (id) => {
      const { token } = await (await fetch('api/config')).json();
      const r = await fetch(`/v1/sessions/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
      return r.status;
    }, session);
    assert.equal(status, 200);
    await page.waitForSelector('#conn[data-state="deleted"]', { timeout: 15000 });
    assert.equal(await page.locator('.msg').count(), 0);
    assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), `ds.session.${session}`), null);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await page.evaluate(() => window.__ds.connected), false);
    assert.equal(await page.locator('#conn').getAttribute('data-state'), 'deleted');
    await page.close();
  });
});
