// Builds the package: one ESM bundle per entry point (shared code in chunks) with esbuild, and
// the type declarations with tsc. `node build.mjs`
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const started = Date.now();
rmSync(path.join(here, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: here,
  entryPoints: {
    index: 'src/index.ts',
    react: 'src/react/index.ts',
    ai: 'src/ai/index.ts',
    agent: 'src/agent/index.ts',
    'ai-server': 'src/ai-server/index.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  sourcemap: true,
  // peer dependencies stay imports; node: builtins are only used by the Node agent SDK
  external: ['react', 'react/*', 'ai', 'ws', 'node:*'],
  logLevel: 'warning',
});
execFileSync(process.execPath, [path.join(here, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
  { cwd: here, stdio: 'inherit' });
console.log(`built dist/ in ${Date.now() - started} ms`);
