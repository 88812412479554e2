// npm pack, install the tarball into a scratch project, and type-check a usage file against it
// (tsc --noEmit, strict, NodeNext resolution through the package's "exports"); then import every
// entry point at runtime. `npm run test:pack` (after `npm run build`).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const started = Date.now();
const pkg = JSON.parse(readFileSync(path.join(WEB, 'package.json'), 'utf8'));
const dir = mkdtempSync(path.join(tmpdir(), 'ds-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], WEB));
  const tarball = path.join(dir, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  for (const want of ['dist/index.js', 'dist/ai.js', 'dist/react.js', 'dist/agent.js', 'dist/ai-server.js',
                      'dist/types/index.d.ts', 'package.json']) {
    if (!files.includes(want)) throw new Error(`the tarball lacks ${want}`);
  }
  if (files.some((f) => f.startsWith('src/') || f.startsWith('test/'))) throw new Error('the tarball carries sources or tests');
  const dev = pkg.devDependencies;
  const project = path.join(dir, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({
    name: 'scratch', private: true, type: 'module',
    dependencies: {
      '@durable-sessions/client': `file:${tarball}`,
      ai: dev.ai, zod: dev.zod, react: dev.react, ws: dev.ws,
      '@types/react': dev['@types/react'], '@types/ws': dev['@types/ws'], '@types/node': dev['@types/node'],
    },
  }, null, 2));
  writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
                       jsx: 'react-jsx', lib: ['ES2022', 'DOM'], types: ['node'], noEmit: true, skipLibCheck: true },
    files: ['usage.tsx'],
  }, null, 2));
  copyFileSync(path.join(WEB, 'test/pack/usage.ts'), path.join(project, 'usage.tsx'));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], project);
  run(process.execPath, [path.join(WEB, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], project);
  run(process.execPath, ['--input-type=module', '-e', `
    for (const entry of ['', '/ai', '/react', '/agent', '/ai-server']) {
      const m = await import('@durable-sessions/client' + entry);
      if (Object.keys(m).length === 0) throw new Error('nothing exported from ' + entry);
    }`], project);
  console.log(`pack test: ${packed[0].filename} (${files.length} files, ${Math.round(packed[0].size / 1024)} KiB) `
    + `installed, type-checked and imported in ${Math.round((Date.now() - started) / 1000)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
