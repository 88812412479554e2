// Starts the local stack (LocalStackMain, demo included) on a free port for the browser tests,
// and a Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(WEB, '../..');
export const OUT = path.join(WEB, 'test-output');
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

/** local/stack's runtime classpath: DS_STACK_CLASSPATH, or asked from Maven once. */
function stackClasspath() {
  const file = process.env.DS_STACK_CLASSPATH_FILE ?? path.join(OUT, 'classpath.txt');
  if (!existsSync(file)) {
    execFileSync(path.join(REPO, 'mvnw'), ['-B', '-q', '-ntp', '-pl', 'local/stack', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath',
      `-Dmdep.outputFile=${file}`], { cwd: REPO, stdio: 'inherit' });
  }
  return [path.join(REPO, 'local/stack/target/classes'), readFileSync(file, 'utf8').trim()].join(path.delimiter);
}

export async function startStack({ tokensPerSecond = 40, replyTokens = 120 } = {}) {
  const port = await freePort();
  const child = spawn(javaBin(), ['-cp', stackClasspath(), 'io.durablesessions.local.LocalStackMain'], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DS_LOCAL_PORT: String(port), DS_DEMO_DIR: WEB,
           DS_DEMO_TOKENS_PER_SECOND: String(tokensPerSecond), DS_DEMO_REPLY_TOKENS: String(replyTokens) },
  });
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local stack did not start in 90 s:\n${output}`)), 90000);
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
    port,
    demoUrl: `http://127.0.0.1:${port}/demo/`,
    async stop() {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await new Promise((r) => { if (child.exitCode !== null) r(); else { child.on('exit', r); setTimeout(r, 5000); } });
    },
  };
}

export async function startBrowser() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'ds-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 760 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// The simulated agent's reply, exactly (local/stack/src/main/java/io/durablesessions/local/demo/DemoAgent.java).
const WORDS = ('a durable session keeps every token of this reply in an ordered log so '
  + 'you can reload the page open a second tab cut the network or press stop and every tab still shows '
  + 'the same text at the same seq').split(' ');

export function expectedReply(question, replyTokens = 120) {
  const echo = `You said: "${question.trim()}". Here is a simulated streamed answer:`.split(/\s+/);
  const words = [];
  for (let i = 0; i < echo.length + replyTokens; i++) words.push(i < echo.length ? echo[i] : WORDS[(i - echo.length) % WORDS.length]);
  return words.join(' ');
}
