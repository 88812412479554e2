// Runs `node --test` on the given files or folders against ONE local stack started here (instead of
// one per test file): `node test/with-stack.js test/e2e/ test/browser/`.
import { spawn } from 'node:child_process';
import { launchStack } from './support/stack.js';

const started = Date.now();
const stack = await launchStack();
console.log(`# local stack on port ${stack.port} (started in ${Math.round((Date.now() - started) / 1000)} s)`);
// --test-force-exit: a test that leaves a socket open must not hang the run
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, DS_TEST_STACK: JSON.stringify({ port: stack.port }) },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => { child.kill(signal); void stack.stop().then(() => process.exit(130)); });
}
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await stack.stop();
process.exit(code);
