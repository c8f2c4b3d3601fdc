#!/usr/bin/env node
// The one test command (npm test): builds the app for the end-to-end tests, runs every vitest project
// (node, browser = headless Chromium, e2e = Playwright against the built app) in one run, and ends with a
// plain "N passed, N failed" line. Extra arguments go to vitest (e.g. `npm test -- --project node`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

spawnSync(process.execPath, ['scripts/build-wasm.mjs'], { stdio: 'inherit' }); // [cpu wasm] build the WebAssembly kernels if missing or stale (scripts/build-wasm.mjs)
spawnSync(process.execPath, ['scripts/build-world.mjs'], { stdio: 'inherit' }); // the default world into public/world/ (the app's worker loads it)
const args = process.argv.slice(2);
const results = '.vitest-results.json';
const onlyNode = args.includes('--project') && args[args.indexOf('--project') + 1] === 'node';

if (!onlyNode) {
  console.log('> vite build (for the end-to-end tests)');
  const b = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (b.status !== 0) {
    console.log('0 passed, 1 failed');
    console.error('the build failed, so no test ran');
    process.exit(1);
  }
}

rmSync(results, { force: true });
const r = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...args],
  { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(results)) {
  const json = JSON.parse(readFileSync(results, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = (json.numFailedTests ?? 0) + (json.numFailedTestSuites ?? 0);
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
} else {
  failed = 1;
  console.error(`vitest wrote no ${results}`);
}
if (r.status !== 0 && failed === 0) failed = 1; // vitest failed outside any test (config, collection, crash)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
