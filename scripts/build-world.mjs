#!/usr/bin/env node
// Builds the default knowledge world (seed 0) into public/world/, where the app's training worker loads it from:
// derived data is generated at install/build time from the npm packages, never committed (public/world/ is
// gitignored). Run by `npm ci` / `npm install` (prepare), `npm run dev`, `npm run build` and scripts/run-tests.mjs.
// Skips the build when public/world/world.json already describes the default world (seed 0, size default);
// `--force` rebuilds. The shipped checkpoints (public/policy/) are bound to this world's hash.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'public/world');
const log = (msg) => process.stderr.write(`[build-world] ${msg}\n`);

function current() {
  const meta = join(out, 'world.json');
  if (!existsSync(meta) || !existsSync(join(out, 'corpus.jsonl'))) return false;
  try {
    const w = JSON.parse(readFileSync(meta, 'utf8'));
    return w.seed === 0 && w.size === 'default';
  } catch {
    return false;
  }
}

if (!process.argv.includes('--force') && current()) {
  log('public/world/ is the default world already');
} else {
  log('building the default world (seed 0) into public/world/ ...');
  execFileSync(process.execPath, ['scripts/node-run.mjs', 'src/cli/main.ts', 'world', 'build', '--seed', '0', '--size', 'default', '--out', out], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  log('done');
}
