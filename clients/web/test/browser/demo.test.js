// Browser tests of the demo chat (which runs on the built package): a real Chromium against a real
// local stack, at a desktop window and at a phone's viewport (390×844; the layout also at 360×740).
// Every tab is watched: a failed request, an HTTP error or a console error fails its test.
// Waits are on conditions with generous bounds, so a busy machine only makes the tests slower.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, WAIT_MS, expectedReply, startBrowser, startStack, token, waitFor } from '../support/stack.js';

const REPLY_TOKENS = 120;
const VIEWPORTS = [
  { name: 'desktop', options: { viewport: { width: 1100, height: 760 } }, layouts: [{ width: 1100, height: 760 }] },
  { name: 'phone', options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
    layouts: [{ width: 390, height: 844 }, { width: 360, height: 740 }] },
];

let stack;
let config;
let narrowToken;

before(async () => {
  stack = await startStack({ tokensPerSecond: 40, replyTokens: REPLY_TOKENS });
  config = await (await fetch(`${stack.demoUrl}api/config`)).json();
  // the demo user, but with a grant for other sessions only: the service refuses the page's session
  narrowToken = token(config.user, 'client', 'elsewhere-*');
});

after(async () => {
  await stack?.stop();
});

let n = 0;
function newSession(name) {
  return `web-${name}-${Date.now().toString(36)}-${++n}`;
}

/** What the service holds of a session (GET /v1/sessions/{id}, with the page's token). */
async function sessionInfo(id) {
  const r = await fetch(`${stack.httpUrl}/v1/sessions/${id}`, { headers: { authorization: `Bearer ${config.token}` } });
  return r.ok ? r.json() : null;
}

const assistant = (page) => page.locator('.msg[data-role="assistant"]');

async function assistantWords(page) {
  const texts = await assistant(page).locator('.text').allTextContents();
  return texts.join(' ').split(/\s+/).filter(Boolean).length;
}

async function replyDone(page, count = 1) {
  await waitFor(async () => (await page.locator('.msg[data-role="assistant"][data-status="complete"]').count()) >= count,
    WAIT_MS, 'the reply to complete');
  return assistant(page).locator('.text').allTextContents();
}

async function send(page, text) {
  await page.fill('#prompt', text);
  await page.click('#send');
}

const notice = (page) => page.evaluate(() => {
  const n = document.getElementById('notice');
  return n.hidden ? null : { reason: n.dataset.reason, kind: n.dataset.kind, text: document.getElementById('notice-text').textContent };
});

const atBottom = (page) => page.$eval('#messages', (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);

/**
 * Frames from the service to the page, passed on through Playwright's WebSocket route; while `hold`
 * is set, `events` and `snapshot` frames wait in `queue` (answers to the page's requests still pass)
 * until `release(n)`: a slow network, on demand.
 */
async function relay(page) {
  const r = { hold: false, queue: [] };
  await page.routeWebSocket(/\/local\?/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      let type = null;
      try { type = JSON.parse(String(m)).type; } catch { /* not JSON: pass it on */ }
      if (r.hold && (type === 'events' || type === 'snapshot')) r.queue.push([ws, m]);
      else ws.send(m);
    });
  });
  /** Passes on `count` held frames; answers the highest event seq among them (0 for none). */
  r.release = (count = Infinity) => {
    let seq = 0;
    for (let i = 0; i < count && r.queue.length; i++) {
      const [ws, m] = r.queue.shift();
      for (const e of JSON.parse(String(m)).events ?? []) seq = Math.max(seq, e.seq ?? 0);
      ws.send(m);
    }
    return seq;
  };
  /** The lowest event seq in a held frame (Infinity for none): the tab cannot get past it before it is released. */
  r.lowestHeld = () => {
    let low = Infinity;
    for (const [, m] of r.queue) for (const e of JSON.parse(String(m)).events ?? []) low = Math.min(low, e.seq ?? Infinity);
    return low;
  };
  return r;
}

/**
 * Passes on one held frame and waits until the tab applied what it can: up to that frame's seq, or up
 * to just below a seq still held. The fan-out and the append's direct delivery may send a session's
 * frames out of order (the client rule holds the later one until the gap closes), so a released frame
 * can wait for one that is still held here.
 */
async function releaseOne(r, page) {
  const seq = r.release(1);
  await waitFor(async () => Number(await page.locator('#last-seq').textContent()) >= Math.min(seq, r.lowestHeld() - 1),
    WAIT_MS, 'the frame rendered');
  return seq;
}

for (const vp of VIEWPORTS) {
  const size = `${vp.options.viewport.width}×${vp.options.viewport.height}`;
  describe(`demo chat in Chromium, ${vp.name} ${size}`, { concurrency: false }, () => {
    let browser;
    before(async () => { browser = await startBrowser(vp.options); });
    after(async () => { await browser?.close(); });

    /** A watched tab: failed requests, HTTP errors and console errors are collected in page.problems. */
    async function newTab({ beforeGoto } = {}) {
      const page = await browser.context.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });
      page.on('requestfailed', (r) => {
        // a reload or close cancels what is in flight: that is the test's doing, not the page's
        if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`);
      });
      page.problems = problems;
      if (beforeGoto) await beforeGoto(page);
      return page;
    }

    async function openTab(session, opts = {}) {
      const page = await newTab(opts);
      await page.goto(`${stack.demoUrl}?session=${encodeURIComponent(session)}`);
      if (opts.connected !== false) await page.waitForSelector('#conn[data-state="connected"]', { timeout: WAIT_MS });
      return page;
    }

    async function closeTab(page) {
      const problems = [...page.problems];
      await page.close();
      assert.deepEqual(problems, [], 'no failed requests, HTTP errors or console errors');
    }

    /** Opens the side list when it is a drawer (phone); on a desktop it is always there. */
    async function openSidebar(page) {
      if (await page.locator('#sidebar-toggle').isVisible()) {
        assert.equal(await page.locator('#sidebar').isVisible(), false, 'the drawer is closed until toggled');
        await page.click('#sidebar-toggle');
      }
      await page.locator('#sidebar').waitFor({ state: 'visible' });
    }

    test('reloading mid-stream shows the full reply exactly once', async () => {
      const s = newSession('reload');
      const page = await openTab(s);
      await send(page, 'hello reload');
      await waitFor(async () => (await assistantWords(page)) >= 15, WAIT_MS, 'the reply to start streaming');
      await page.reload();
      const texts = await replyDone(page);
      assert.equal(texts.length, 1, 'one assistant message');
      assert.equal(texts[0], expectedReply('hello reload', REPLY_TOKENS));
      assert.equal(await page.locator('.msg[data-role="user"]').count(), 1, 'one user message');
      // a brand-new tab hydrates the same state
      const fresh = await openTab(s);
      await replyDone(fresh);
      assert.deepEqual(await assistant(fresh).locator('.text').allTextContents(), texts);
      await closeTab(fresh);
      await closeTab(page);
    });

    test('two tabs on one session see the same stream and each other', async () => {
      const s = newSession('two');
      const a = await openTab(s);
      const b = await openTab(s);
      // tab B counts the text deltas it applies live (a hydrate would bring none)
      await b.evaluate(() => { window.__deltas = 0; window.__ds.on('event', (e) => { if (e.type === 'text.delta') window.__deltas++; }); });
      await send(a, 'two tabs');
      const [ta, tb] = [await replyDone(a), await replyDone(b)];
      assert.deepEqual(ta, [expectedReply('two tabs', REPLY_TOKENS)]);
      assert.deepEqual(tb, ta);
      assert.ok(await b.evaluate(() => window.__deltas) >= 2, 'tab B saw the reply stream in');
      await waitFor(async () => (await a.locator('#presence li').count()) >= 3, WAIT_MS, 'presence of both tabs and the agent');
      await a.screenshot({ path: path.join(OUT, `demo-${vp.name}.png`) });
      await closeTab(a);
      await closeTab(b);
    });

    test('Stop in tab A: both tabs show stopped at the same seq and the agent stops producing', async () => {
      // on a busy machine the reply may end before the click reaches the service: then try again
      for (let attempt = 1; ; attempt++) {
        const s = newSession('stop');
        const a = await openTab(s);
        const b = await openTab(s);
        await send(a, 'please stop me');
        await waitFor(async () => (await assistantWords(a)) >= 20, WAIT_MS, 'the reply to stream');
        await a.click('#stop');
        const outcome = await waitFor(async () => (await notice(a))?.reason === 'stop-late' ? 'late'
          : await a.$eval('#run-state', (el) => el.dataset.state === 'stopped' && el.dataset.stoppedAt), WAIT_MS, 'the stop');
        if (outcome === 'late' && attempt < 3) { await closeTab(a); await closeTab(b); continue; }
        assert.notEqual(outcome, 'late', 'three replies in a row ended before their Stop arrived');
        const stoppedA = outcome;
        const stoppedB = await waitFor(async () => b.$eval('#run-state', (el) => el.dataset.state === 'stopped' && el.dataset.stoppedAt),
          WAIT_MS, 'tab B to show the stop');
        assert.ok(Number(stoppedA) > 0);
        assert.equal(stoppedB, stoppedA, 'the same stop seq in both tabs');
        await waitFor(async () => (await a.$eval('#run-state', (el) => el.textContent)).includes(`stopped at seq ${stoppedA}`));
        // the run ends acknowledged: the log says so for every tab
        await waitFor(async () => a.evaluate(() => window.__ds.state.runs.at(-1)?.state === 'stopped'), WAIT_MS, 'run.stopped');
        const textA = await assistant(a).locator('.text').allTextContents();
        await new Promise((r) => setTimeout(r, 1500)); // the agent would have written ~60 more words
        assert.deepEqual(await assistant(a).locator('.text').allTextContents(), textA, 'no text after the stop');
        assert.deepEqual(await assistant(b).locator('.text').allTextContents(), textA, 'tab B has the same text');
        assert.ok(textA[0].length < expectedReply('please stop me', REPLY_TOKENS).length, 'the reply was cut short');
        assert.equal(await a.locator('.msg[data-role="assistant"]').getAttribute('data-status'), 'interrupted');
        assert.ok(await a.locator('#stop').isDisabled(), 'nothing left to stop');
        await closeTab(a);
        await closeTab(b);
        return;
      }
    });

    test('a Stop that arrives after the reply ended says so', async () => {
      const s = newSession('late-stop');
      let r;
      const page = await openTab(s, { beforeGoto: async (p) => { r = await relay(p); } });
      await send(page, 'finish before the stop');
      await waitFor(async () => (await assistantWords(page)) >= 5, WAIT_MS, 'the reply to stream');
      // the network to this tab stalls; meanwhile the reply ends on the service
      r.hold = true;
      await waitFor(async () => (await sessionInfo(s))?.runs?.at(-1)?.state === 'completed', WAIT_MS, 'the run to complete on the service');
      assert.equal(await page.locator('#run-state').getAttribute('data-state'), 'running', 'the tab still shows it running');
      await page.click('#stop');
      const shown = await waitFor(() => notice(page), WAIT_MS, 'a notice');
      assert.equal(shown.reason, 'stop-late');
      assert.match(shown.text, /reply had already ended/);
      assert.ok(await page.locator('#notice').isVisible());
      r.hold = false;
      r.release();
      const texts = await replyDone(page);
      assert.deepEqual(texts, [expectedReply('finish before the stop', REPLY_TOKENS)], 'the whole reply, not stopped');
      await closeTab(page);
    });

    test('a network cut mid-stream reconnects and completes the reply', async () => {
      const s = newSession('cut');
      const page = await openTab(s);
      await send(page, 'cut the network');
      await waitFor(async () => (await assistantWords(page)) >= 10, WAIT_MS, 'the reply to stream');
      await page.evaluate(() => window.__ds.dropConnection());
      // the second cut only after the first reconnect is through (subscribed again)
      await waitFor(() => page.evaluate(() => window.__ds.connected && window.__ds.stats.connects >= 2), WAIT_MS, 'the reconnect');
      await page.evaluate(() => window.__ds.dropConnection());
      const texts = await replyDone(page);
      assert.deepEqual(texts, [expectedReply('cut the network', REPLY_TOKENS)]);
      await waitFor(() => page.evaluate(() => window.__ds.connected && window.__ds.stats.connects >= 3), WAIT_MS, 'the second reconnect');
      await closeTab(page);
    });

    test('a session erased on the server disappears from the tab, which says so and does not reconnect to it', async () => {
      const session = newSession('erase');
      const key = `ds.session.${session}`;
      const page = await openTab(session);
      await send(page, 'erase me later');
      await replyDone(page);
      // the tab keeps what it saw for a reload (written at most 250 ms after the last change)
      await waitFor(() => page.evaluate((k) => sessionStorage.getItem(k) !== null, key), WAIT_MS, 'the saved state');
      // a back end erases it through the HTTP API (here with the page's own dev token, which may)
      const r = await fetch(`${stack.httpUrl}/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${config.token}` } });
      assert.equal(r.status, 200);
      await page.waitForSelector('#conn[data-state="deleted"]', { timeout: WAIT_MS });
      assert.equal(await page.locator('.msg').count(), 0);
      assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), key), null, 'nothing of it kept in the tab');
      const shown = await notice(page);
      assert.equal(shown?.reason, 'deleted');
      assert.equal(shown.kind, 'error');
      assert.ok(await page.locator('#notice').isVisible());
      assert.ok(await page.locator('#notice-new').isVisible(), 'a way to a new chat');
      assert.ok(await page.locator('#prompt').isDisabled());
      await new Promise((res) => setTimeout(res, 1500)); // a reconnecting tab would have subscribed again by now
      assert.equal(await page.evaluate(() => window.__ds.connected), false);
      assert.equal(await page.locator('#conn').getAttribute('data-state'), 'deleted');
      assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), key), null);
      await closeTab(page);
    });

    test('a tab reopened on a session erased while it was away says so and shows what the service holds', async () => {
      const session = newSession('erased-away');
      const page = await openTab(session);
      await send(page, 'erase me while away');
      await replyDone(page);
      await waitFor(() => page.evaluate((k) => sessionStorage.getItem(k) !== null, `ds.session.${session}`), WAIT_MS, 'the saved state');
      await page.evaluate(() => window.__ds.close()); // the tab goes away, keeping what it saw
      const r = await fetch(`${stack.httpUrl}/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${config.token}` } });
      assert.equal(r.status, 200);
      await page.reload();
      const shown = await waitFor(() => notice(page), WAIT_MS, 'a notice');
      assert.equal(shown.reason, 'erased');
      await page.waitForSelector('#conn[data-state="connected"]', { timeout: WAIT_MS });
      assert.equal(await page.locator('.msg').count(), 0, 'nothing of the erased chat');
      // and the chat goes on: the session begins again under the same id
      await send(page, 'begin again');
      await replyDone(page);
      assert.equal(await page.locator('.msg[data-role="user"]').count(), 1);
      await closeTab(page);
    });

    test('a session id that is not valid gets a visible error, not "connecting…"', async () => {
      let sockets = 0;
      const page = await openTab('not a valid id!', { connected: false, beforeGoto: (p) => p.on('websocket', () => sockets++) });
      const shown = await waitFor(() => notice(page), WAIT_MS, 'a notice');
      assert.equal(shown.reason, 'invalid');
      assert.equal(shown.kind, 'error');
      assert.match(shown.text, /not a valid id!/);
      assert.ok(await page.locator('#notice').isVisible());
      assert.equal(await page.locator('#conn').getAttribute('data-state'), 'error');
      assert.ok(await page.locator('#prompt').isDisabled());
      assert.equal(sockets, 0, 'the invalid id was never sent');
      await page.locator('#notice-new').click();
      await page.waitForSelector('#conn[data-state="connected"]', { timeout: WAIT_MS });
      assert.ok((await page.evaluate(() => window.__ds.sessionId)).startsWith('demo-'), 'a new chat');
      await closeTab(page);
    });

    test('a session the service refuses (FORBIDDEN) gets a visible error', async () => {
      const page = await openTab(newSession('forbidden'), {
        connected: false,
        beforeGoto: (p) => p.route('**/demo/api/config', (route) => route.fulfill({
          contentType: 'application/json', body: JSON.stringify({ ...config, token: narrowToken }) })),
      });
      const shown = await waitFor(() => notice(page), WAIT_MS, 'a notice');
      assert.equal(shown.reason, 'refused');
      assert.equal(shown.kind, 'error');
      assert.match(shown.text, /FORBIDDEN/);
      assert.ok(await page.locator('#notice').isVisible());
      assert.equal(await page.locator('#conn').getAttribute('data-state'), 'error');
      assert.equal(await page.locator('#conn').textContent(), 'refused');
      assert.ok(await page.locator('#prompt').isDisabled());
      await closeTab(page);
    });

    test('the agent has one name: its label, its presence, the page', async () => {
      const s = newSession('name');
      let r;
      const page = await openTab(s, { beforeGoto: async (p) => { r = await relay(p); } });
      const name = config.agent.label;
      assert.ok(name && name !== config.agent.id);
      assert.match(await page.locator('#prompt').getAttribute('placeholder'), new RegExp(name));
      // the reply reaches the tab frame by frame, so the tab surely shows it running once
      r.hold = true;
      await send(page, 'who are you');
      await waitFor(async () => (await sessionInfo(s))?.runs?.at(-1)?.state === 'completed', WAIT_MS, 'the reply on the service');
      let running = null;
      while (running === null && r.queue.length) {
        await releaseOne(r, page);
        if ((await page.locator('#run-state').getAttribute('data-state')) === 'running') running = await page.locator('#run-state').textContent();
      }
      assert.equal(running, `${name} is replying…`);
      r.hold = false;
      r.release();
      await replyDone(page);
      const state = await page.evaluate(() => window.__ds.state);
      assert.deepEqual(state.agents.map((a) => [a.agentId, a.label]), [[config.agent.id, name]], 'agent.joined carries the name');
      assert.equal(await assistant(page).locator('.who').textContent(), name);
      await waitFor(async () => (await page.locator('#presence li[data-role="agent"]').allTextContents()).includes(`${name} (agent)`),
        WAIT_MS, 'the agent in presence under its name');
      const agentPresence = (await page.evaluate(() => window.__ds.state)).presence.find((p) => p.role === 'agent');
      assert.equal(agentPresence.label, name, 'its connection label');
      const text = await page.evaluate(() => document.body.innerText);
      assert.ok(!text.includes(config.agent.id), `the page never shows the id ${config.agent.id}`);
      await closeTab(page);
    });

    test('a favicon, and no request of the page fails', async () => {
      const page = await openTab(newSession('icon'));
      const href = await page.$eval('link[rel="icon"]', (l) => l.href);
      const r = await page.request.get(href);
      assert.equal(r.status(), 200);
      assert.match(r.headers()['content-type'], /^image\/svg\+xml/);
      await closeTab(page); // asserts no 404 (nor any other failure) happened
    });

    test('the side list shows the user\'s chats, switches between them, and starts new ones', async () => {
      const first = newSession('list-a');
      const page = await openTab(first);
      await send(page, 'my first chat');
      await replyDone(page);
      await openSidebar(page);
      const current = page.locator('#session-list a[aria-current="page"]');
      await waitFor(async () => (await current.count()) === 1, WAIT_MS, 'the chat in the list');
      assert.equal(await current.getAttribute('data-session-id'), first);
      assert.equal(await current.locator('.title').textContent(), 'my first chat');
      // a new chat: another session, empty, then listed first (newest first)
      await page.click('#new-chat');
      await page.waitForSelector('#conn[data-state="connected"]', { timeout: WAIT_MS });
      const second = await page.evaluate(() => window.__ds.sessionId);
      assert.notEqual(second, first);
      assert.equal(new URL(page.url()).searchParams.get('session'), second);
      assert.equal(await page.locator('.msg').count(), 0);
      await send(page, 'my second chat');
      await replyDone(page);
      await openSidebar(page);
      await waitFor(async () => (await page.locator('#session-list a').first().getAttribute('data-session-id')) === second,
        WAIT_MS, 'the new chat at the top of the list');
      const ids = await page.locator('#session-list a').evaluateAll((as) => as.map((a) => a.dataset.sessionId));
      assert.ok(ids.indexOf(first) > ids.indexOf(second), 'newest first');
      // back to the first chat
      await page.click(`#session-list a[data-session-id="${first}"]`);
      await page.waitForSelector('#conn[data-state="connected"]', { timeout: WAIT_MS });
      assert.equal(new URL(page.url()).searchParams.get('session'), first);
      assert.deepEqual(await page.locator('.msg[data-role="user"] .text').allTextContents(), ['my first chat']);
      await replyDone(page);
      await openSidebar(page);
      await waitFor(async () => (await current.getAttribute('data-session-id').catch(() => null)) === first, WAIT_MS, 'the first chat marked');
      await closeTab(page);
    });

    test('long chats scroll inside the list, the composer stays in view, new text is followed only at the bottom', async () => {
      const s = newSession('scroll');
      let r;
      const page = await openTab(s, { beforeGoto: async (p) => { r = await relay(p); } });
      // a chat longer than the screen
      await page.evaluate(async () => {
        for (let i = 1; i <= 14; i++) await window.__ds.sendUserMessage(`earlier message ${i}\nwith a second line\nand a third`);
      });
      await waitFor(async () => (await page.locator('.msg').count()) === 14, WAIT_MS, 'the earlier messages');
      const layout = await page.evaluate(() => {
        const m = document.getElementById('messages');
        const composer = document.getElementById('send-form').getBoundingClientRect();
        return { overflowing: m.scrollHeight > m.clientHeight + 50, pageScrolls: document.scrollingElement.scrollHeight > innerHeight + 1,
                 composerBottom: composer.bottom, innerHeight };
      });
      assert.ok(layout.overflowing, 'the message list overflows and scrolls');
      assert.equal(layout.pageScrolls, false, 'the page itself does not scroll');
      assert.ok(layout.composerBottom <= layout.innerHeight, 'the composer is on screen');
      await waitFor(() => atBottom(page), WAIT_MS, 'the list at the newest message');

      // the reply reaches the tab in pieces: it follows while the reader is at the bottom...
      r.hold = true;
      await send(page, 'a reply to follow');
      await waitFor(async () => (await sessionInfo(s))?.runs?.at(-1)?.state === 'completed', WAIT_MS, 'the reply on the service');
      const pieces = r.queue.length;
      assert.ok(pieces >= 4, `the reply came in several frames (${pieces})`);
      // half of the frames, and more if the first words are in a frame still held (frames may come out of order)
      for (let k = 0; r.queue.length && (k < Math.floor(pieces / 2) || (await assistantWords(page)) === 0); k++) {
        await releaseOne(r, page);
      }
      await waitFor(async () => (await assistantWords(page)) > 0, WAIT_MS, 'the first half of the reply');
      await waitFor(() => atBottom(page), WAIT_MS, 'the list to follow the new text');
      // ...and leaves a reader who scrolled up where they are
      await page.$eval('#messages', (el) => { el.scrollTop = 0; });
      const before = await assistantWords(page);
      r.hold = false;
      r.release();
      await replyDone(page);
      assert.ok((await assistantWords(page)) > before);
      assert.equal(await page.$eval('#messages', (el) => el.scrollTop), 0, 'not yanked to the bottom');
      assert.ok(await page.locator('#jump').isVisible(), 'a button to the new text');
      await page.click('#jump');
      await waitFor(() => atBottom(page), WAIT_MS, 'the jump to the newest text');
      assert.equal(await page.locator('#jump').isVisible(), false);
      await closeTab(page);
    });

    for (const layout of vp.layouts) {
      test(`at ${layout.width}×${layout.height} nothing overflows sideways and Send, Stop and Steer work`, async () => {
        const page = await openTab(newSession('layout'));
        await page.setViewportSize(layout);
        const long = 'averyveryverylongwordwithoutanyspaces'.repeat(8);
        await send(page, `wrap this: ${long}`);
        await waitFor(async () => (await assistantWords(page)) >= 15, WAIT_MS, 'the reply to stream');
        const check = () => page.evaluate(() => {
          const w = innerWidth;
          const out = [];
          if (document.documentElement.scrollWidth > w) out.push(`page ${document.documentElement.scrollWidth} > ${w}`);
          const m = document.getElementById('messages');
          if (m.scrollWidth > m.clientWidth) out.push(`message list ${m.scrollWidth} > ${m.clientWidth}`);
          for (const el of document.querySelectorAll('header *, .chat button:not([hidden]), .chat input, .msg')) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue; // not displayed
            if (r.left < -0.5 || r.right > w + 0.5) out.push(`${el.id || el.className} spans ${r.left}..${r.right} of ${w}`);
          }
          for (const id of ['prompt', 'send', 'stop', 'steer', 'steer-send']) {
            const r = document.getElementById(id).getBoundingClientRect();
            if (r.bottom > innerHeight || r.top < 0) out.push(`#${id} is off screen (${r.top}..${r.bottom} of ${innerHeight})`);
          }
          return out;
        });
        assert.deepEqual(await check(), [], 'everything within the width, the controls on screen');
        const bubble = await page.locator('.msg[data-role="user"]').boundingBox();
        assert.ok(bubble.height > 40, 'the long word wraps inside its bubble');
        // Steer, then Stop: real clicks (Playwright checks that each button is visible, enabled and not covered)
        await page.fill('#steer', 'mention cats');
        await page.click('#steer-send');
        await waitFor(async () => (await assistant(page).locator('.text').allTextContents()).join(' ').includes('[steered: mention cats]')
          || (await notice(page))?.reason === 'steer', WAIT_MS, 'the steer to take effect');
        if (await page.locator('#stop').isEnabled()) {
          await page.click('#stop');
          await waitFor(async () => (await page.locator('#run-state').getAttribute('data-state')) === 'stopped'
            || (await notice(page))?.reason === 'stop-late', WAIT_MS, 'the stop to take effect');
        }
        assert.deepEqual(await check(), [], 'still nothing overflows');
        if (vp.name === 'phone') {
          // the side list is a drawer: closed, it takes no room; open, it fits the screen
          assert.equal(await page.locator('#sidebar').isVisible(), false);
          await page.click('#sidebar-toggle');
          await page.locator('#sidebar').waitFor({ state: 'visible' });
          // it slides in (a short transition): measure it once it is in place
          const box = await waitFor(async () => {
            const b = await page.locator('#sidebar').boundingBox();
            return b && b.x >= -0.5 ? b : null;
          }, WAIT_MS, 'the drawer to slide in');
          assert.ok(box.x + box.width <= layout.width + 0.5, `the drawer fits the screen (${box.x}..${box.x + box.width} of ${layout.width})`);
          await page.screenshot({ path: path.join(OUT, `demo-${layout.width}-drawer.png`) });
          await page.click('#scrim', { position: { x: layout.width - 10, y: layout.height / 2 } });
          await page.locator('#sidebar').waitFor({ state: 'hidden' });
        }
        await page.screenshot({ path: path.join(OUT, `demo-${layout.width}x${layout.height}.png`) });
        await closeTab(page);
      });
    }
  });
}
