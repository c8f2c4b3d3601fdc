#!/usr/bin/env node
// Builds the WebAssembly SIMD kernels of the fast cpu backend from their AssemblyScript sources:
//   src/engine/cpu/wasm/assembly/*.ts  ->  src/engine/cpu/wasm/build/kernels.wasm     (plain memory, 1 thread)
//                                       ->  src/engine/cpu/wasm/build/kernels-mt.wasm  (shared memory, 2 threads)
// The .wasm files are build outputs (gitignored). Run by `npm install` / `npm ci` (the `prepare` script),
// `npm run build`, `npm run build:wasm` and scripts/run-tests.mjs. Skips the compile when both outputs are newer
// than every source; `--force` rebuilds, `--if-missing` only builds when an output is absent.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src/engine/cpu/wasm/assembly');
const outDir = join(root, 'src/engine/cpu/wasm/build');
const entry = join(srcDir, 'index.ts');

// Pages of 64 KiB. The imported memory declares at least 1 page; the shared variant must declare a maximum
// (4 GiB), and the host may create a smaller one.
const COMMON = ['--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert', '--runtime', 'stub', '--importMemory',
  '--initialMemory', '1', '--enable', 'simd'];
const VARIANTS = [
  { out: 'kernels.wasm', args: [] },
  { out: 'kernels-mt.wasm', args: ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'] },
];

const args = process.argv.slice(2);
const force = args.includes('--force');
const ifMissing = args.includes('--if-missing');
const log = (msg) => process.stderr.write(`[build-wasm] ${msg}\n`);

function newestSource() {
  let t = statSync(join(root, 'scripts/build-wasm.mjs')).mtimeMs;
  for (const f of readdirSync(srcDir)) if (f.endsWith('.ts')) t = Math.max(t, statSync(join(srcDir, f)).mtimeMs);
  return t;
}

function upToDate() {
  const outs = VARIANTS.map((v) => join(outDir, v.out));
  if (!outs.every((o) => existsSync(o))) return false;
  if (ifMissing) return true;
  const src = newestSource();
  return outs.every((o) => statSync(o).mtimeMs >= src);
}

if (!force && upToDate()) {
  log(`up to date: ${relative(root, outDir)}/{${VARIANTS.map((v) => v.out).join(',')}}`);
  process.exit(0);
}

let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch (e) {
  log(`cannot load the AssemblyScript compiler (npm package assemblyscript): ${e instanceof Error ? e.message : String(e)}`);
  log('install the dev dependencies (npm ci) and run npm run build:wasm');
  process.exit(1);
}

mkdirSync(outDir, { recursive: true });
const t0 = Date.now();
for (const v of VARIANTS) {
  const out = join(outDir, v.out);
  const argv = [relative(root, entry), '--outFile', relative(root, out), '--baseDir', root, ...COMMON, ...v.args];
  const { error, stderr } = await asc.main(argv, { stdout: process.stderr, stderr: process.stderr });
  if (error) {
    log(`asc failed for ${v.out}: ${error.message}`);
    const text = stderr.toString();
    if (text) process.stderr.write(text);
    process.exit(1);
  }
  log(`wrote ${relative(root, out)} (${statSync(out).size} bytes)`);
}
log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
