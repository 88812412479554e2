// A Node agent process ends when its work is done: after close() nothing of the agent keeps the event
// loop alive (a pending timer would hold the process for up to requestTimeoutMs after the last write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const agentModule = new URL('../../dist/agent.js', import.meta.url).href;

test('a process that closed its agent exits without waiting for the request timeout', async () => {
  // the service acks every append; the request timeout is ten minutes, far beyond this test's wait
  const script = `
    import { DurableAgent } from ${JSON.stringify(agentModule)};
    let head = 0;
    const fetch = async (url, init) => {
      const n = JSON.parse(init.body).events?.length ?? 0;
      const body = { firstSeq: head + 1, lastSeq: head + n, duplicate: false };
      head += n;
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    };
    const agent = await DurableAgent.connect({ url: 'http://service.test', sessionId: 's', producerId: 'p',
                                               requestTimeoutMs: 600000, fetch });
    const run = await agent.startRun('r');
    const reply = run.startReply('m');
    reply.text('hello');
    await reply.end();
    await run.complete();
    await agent.close();
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const verdict = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 120000).unref())]);
  if (verdict === 'still running') child.kill();
  assert.equal(verdict, 0, `the process ${verdict === 'still running' ? 'was still running 2 minutes after' : 'failed'}: ${out}`);
  assert.match(out, /closed/);
});
