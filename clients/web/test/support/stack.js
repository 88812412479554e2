// Starts the local stack (the lab's LocalMain: the embedded stack with the demo) on a free port for the browser tests,
// and a Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO = path.resolve(WEB, '../..');
export const OUT = path.join(WEB, 'test-output');
export { freePort };
mkdirSync(OUT, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

function javaBin() {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

/** local/lab's runtime classpath: DS_STACK_CLASSPATH, or asked from Maven once. */
function stackClasspath() {
  const file = process.env.DS_STACK_CLASSPATH_FILE ?? path.join(OUT, 'classpath.txt');
  if (!existsSync(file)) {
    execFileSync(path.join(REPO, 'mvnw'), ['-B', '-q', '-ntp', '-pl', 'local/lab', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath',
      `-Dmdep.outputFile=${file}`], { cwd: REPO, stdio: 'inherit' });
  }
  return [path.join(REPO, 'local/lab/target/classes'), readFileSync(file, 'utf8').trim()].join(path.delimiter);
}

/**
 * The liveness timeout of the test stacks: a run silent this long (no event, no heartbeat) is failed.
 * Generous: on a busy machine an agent that is alive can still be stalled for seconds.
 */
export const TEST_LIVENESS_SECONDS = 15;

/**
 * The bound of every wait for a condition in these tests. It only says when to give up: a condition
 * that holds is seen within one poll, so on an idle machine tests are no slower for it, and on a busy
 * one (CI beside other builds, scripts/test-under-load) they are slower instead of failing.
 */
export const WAIT_MS = 120000;

/**
 * Starts a local stack (LocalMain) on a free port — or, under test/with-stack.js, returns the
 * one it started for all test files (DS_TEST_STACK), whose stop() leaves it running.
 */
export async function startStack({ tokensPerSecond = 40, replyTokens = 120 } = {}) {
  if (process.env.DS_TEST_STACK) {
    const { port } = JSON.parse(process.env.DS_TEST_STACK);
    return { ...urls(port), async stop() {} };
  }
  return launchStack({ tokensPerSecond, replyTokens });
}

function urls(port) {
  return { port, demoUrl: `http://127.0.0.1:${port}/demo/`, wsUrl: `ws://127.0.0.1:${port}/local`,
           httpUrl: `http://127.0.0.1:${port}` };
}

export async function launchStack({ tokensPerSecond = 40, replyTokens = 120 } = {}) {
  // The tests open dozens of tabs a minute, all as the demo's one user, on new sessions that the
  // demo's one agent principal joins. The default budget (30 presence announcements per subject per
  // minute, docs/security.md) would then silently skip announcements, and the tests that look at
  // presence would pass or fail by where the minute boundary falls.
  const env = { LIVENESS_TIMEOUT_SECONDS: String(TEST_LIVENESS_SECONDS), PRESENCE_JOINS_PER_MINUTE: '1000' };
  const port = await freePort();
  const child = spawn(javaBin(), ['-cp', stackClasspath(), 'io.durablesessions.lab.LocalMain'], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DS_LOCAL_PORT: String(port), DS_DEMO_DIR: WEB,
           DS_DEMO_TOKENS_PER_SECOND: String(tokensPerSecond), DS_DEMO_REPLY_TOKENS: String(replyTokens), ...env },
  });
  let output = '';
  await new Promise((resolve, reject) => {
    // generous: a JVM starting on a busy machine (CI beside other builds) can take a minute or more
    const timer = setTimeout(() => reject(new Error(`local stack did not start in 300 s:\n${output}`)), 300000);
    const onData = (d) => {
      output += d;
      if (output.includes('/demo/')) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => { output += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`local stack exited ${code}:\n${output}`)); });
  });
  child.stdout.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  child.removeAllListeners('exit');
  return {
    ...urls(port),
    async stop() {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await new Promise((r) => { if (child.exitCode !== null) r(); else { child.on('exit', r); setTimeout(r, 5000); } });
    },
  };
}

/** A development token of the local issuer (scripts/token), e.g. token('agent-1', 'agent'). */
export function token(subject, role, scope = '*') {
  return execFileSync(javaBin(), ['-cp', stackClasspath(), 'io.durablesessions.functions.auth.DevTokenCli', subject, role, scope],
    { cwd: REPO, encoding: 'utf8' }).trim();
}

/** Waits for a condition (polling), or fails naming it. */
export async function waitFor(fn, timeoutMs = WAIT_MS, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A Chromium with one browser context; `options` are Playwright's context options, e.g. a phone's
 * `{ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }` (default a desktop window).
 */
export async function startBrowser(options = {}) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'ds-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 760 },
    // a busy machine (CI beside other builds) starts Chromium slowly: Playwright's 30 s is not enough
    timeout: 180000,
    ...options,
  });
  // waits are on conditions; their bounds only say when to give up, so they are generous
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// The simulated agent's reply, exactly (local/lab/src/main/java/io/durablesessions/lab/demo/DemoAgent.java).
const WORDS = ('a durable session keeps every token of this reply in an ordered log so '
  + 'you can reload the page open a second tab cut the network or press stop and every tab still shows '
  + 'the same text at the same seq').split(' ');

export function expectedReply(question, replyTokens = 120) {
  const echo = `You said: "${question.trim()}". Here is a simulated streamed answer:`.split(/\s+/);
  const words = [];
  for (let i = 0; i < echo.length + replyTokens; i++) words.push(i < echo.length ? echo[i] : WORDS[(i - echo.length) % WORDS.length]);
  return words.join(' ');
}
