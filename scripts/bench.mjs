#!/usr/bin/env node
// npm run bench [-- --only gpu|cpu] [--filter SUBSTR[,SUBSTR...]] [--budget-ms N] [--timeout-s N]
//
// Prints one JSON line per benchmark case on stdout (DESIGN.md section 9):
//   {case, shape, backend, adapter, ours, anchor, anchor_value, ratio, unit, reps}
// and everything else (progress, warnings, errors) on stderr, so `npm run bench 2>/dev/null` is pure JSON lines.
//   cpu: src/bench/cpu-bench.ts in Node (through scripts/node-run.mjs): the TypeScript reference cpu backend vs
//        onnxruntime-web wasm; src/bench/wasm-bench.ts: the WASM SIMD fast path (1 and 2 threads) vs ORT wasm with
//        the same thread count, and a training step fast vs reference; src/bench/rollout-bench.ts: batched rollouts
//        vs one sequence at a time, int8 vs fp32 decoding; src/bench/encoder-bench.ts: the E5-style encoder (the
//        shipped one in public/encoder/) on our WASM backend vs the same model exported to ONNX on ORT wasm.
//   gpu: tests/bench/gpu.html in headless Chromium (Debian's /usr/bin/chromium through playwright, WebGPU on
//        SwiftShader), served by Vite's dev server: our WGSL kernels vs onnxruntime-web's webgpu EP and vs our own
//        naive / unfused / fp32 kernels.
// Exits 1 when any case was aborted (disagreeing outputs, a failure) or a part could not run.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Anything a library logs through console.log must not reach stdout: stdout carries only result lines.
console.log = console.error;
console.info = console.error;
const err = (msg) => process.stderr.write(`[bench] ${msg}\n`);

function parseArgs(argv) {
  const o = { only: null, filter: '', budgetMs: null, timeoutS: 900 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--only') o.only = val();
    else if (a === '--filter') o.filter = val();
    else if (a === '--budget-ms') o.budgetMs = Number(val());
    else if (a === '--timeout-s') o.timeoutS = Number(val());
    else if (a === '--help' || a === '-h') {
      process.stderr.write('usage: npm run bench -- [--only gpu|cpu] [--filter SUBSTR,...] [--budget-ms N] [--timeout-s N]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.only !== null && o.only !== 'gpu' && o.only !== 'cpu') throw new Error(`--only must be gpu or cpu, got ${o.only}`);
  if (o.budgetMs !== null && !(o.budgetMs > 0)) throw new Error('--budget-ms must be a positive number');
  if (!(o.timeoutS > 0)) throw new Error('--timeout-s must be a positive number');
  return o;
}

/** Writes a result line to stdout after checking that it is one JSON object with the contract's fields. */
function emitLine(text) {
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    err(`not a result line: ${text}`);
    return false;
  }
  const fields = ['case', 'shape', 'backend', 'adapter', 'ours', 'anchor', 'anchor_value', 'ratio', 'unit'];
  const missing = fields.filter((f) => !(f in obj));
  if (missing.length > 0) {
    err(`result line without ${missing.join(', ')}: ${text}`);
    return false;
  }
  process.stdout.write(`${JSON.stringify(obj)}\n`);
  return true;
}

/** The Node benchmarks, in a child process; its stdout lines are results, its stderr passes through. */
function runCpu(opts) {
  return new Promise((resolvePromise) => {
    err('cpu: src/bench/cpu-bench.ts in Node');
    const args = ['scripts/node-run.mjs', opts.entry ?? 'src/bench/cpu-bench.ts'];
    if (opts.budgetMs !== null) args.push('--budget-ms', String(opts.budgetMs));
    if (opts.filter) args.push('--filter', opts.filter);
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    let bad = 0;
    const take = (l) => {
      if (l.trim() === '') return;
      if (!l.trimStart().startsWith('{')) {
        process.stderr.write(`${l}\n`);
        return;
      }
      if (!emitLine(l)) bad++;
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        take(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.on('close', (code) => {
      take(buf);
      if (code !== 0) err(`cpu: exited with code ${code}`);
      resolvePromise(code === 0 && bad === 0);
    });
    child.on('error', (e) => {
      err(`cpu: could not start node: ${e.message}`);
      resolvePromise(false);
    });
  });
}

/** The browser benchmarks: Vite dev server on 127.0.0.1 (a free port), headless Chromium, results via console. */
async function runGpu(opts) {
  if (!existsSync(CHROMIUM)) {
    err(`gpu: ${CHROMIUM} is missing (apt-get install -y chromium); the WebGPU benchmarks cannot run`);
    return false;
  }
  const { chromium } = await import('playwright');
  const { createServer, searchForWorkspaceRoot } = await import('vite');
  err('gpu: starting the Vite dev server');
  // Vite's default file-serving allow list, plus the real location of node_modules (a symlinked node_modules
  // would otherwise keep ORT's .wasm from being served).
  const allow = [searchForWorkspaceRoot(root)];
  if (existsSync(resolve(root, 'node_modules'))) allow.push(realpathSync(resolve(root, 'node_modules')));
  const server = await createServer({
    root,
    configFile: resolve(root, 'vite.config.ts'), // COOP/COEP headers (cross-origin isolation)
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, watch: null, fs: { allow } },
    // Pre-bundle ORT at start-up, so no late dependency discovery reloads the page mid-run.
    optimizeDeps: { include: ['onnxruntime-web'] },
  });
  let browser = null;
  try {
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the dev server has no TCP address');
    const q = new URLSearchParams();
    if (opts.filter) q.set('filter', opts.filter);
    if (opts.budgetMs !== null) q.set('budget', String(opts.budgetMs));
    const url = `http://127.0.0.1:${address.port}/tests/bench/gpu.html${q.size > 0 ? `?${q}` : ''}`;
    err(`gpu: launching ${CHROMIUM} (headless) on ${url}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    let bad = 0;
    const done = new Promise((resolveDone, rejectDone) => {
      page.on('console', (msg) => {
        const text = msg.text();
        const m = /^BENCH_(LINE|LOG|ERROR|DONE) ([\s\S]*)$/.exec(text);
        if (!m) {
          process.stderr.write(`[page ${msg.type()}] ${text}\n`);
          return;
        }
        const [, kind, payload] = m;
        if (kind === 'LINE') {
          if (!emitLine(payload)) bad++;
        } else if (kind === 'LOG') process.stderr.write(`[bench gpu] ${payload}\n`);
        else if (kind === 'ERROR') {
          bad++;
          process.stderr.write(`[bench gpu] ERROR ${payload}\n`);
        } else resolveDone(JSON.parse(payload));
      });
      page.on('response', (r) => {
        if (r.status() >= 400) process.stderr.write(`[page http] ${r.status()} ${r.url()}\n`);
      });
      page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
      page.on('crash', () => rejectDone(new Error('the page crashed')));
      page.on('close', () => rejectDone(new Error('the page closed')));
    });
    let timer;
    const timeout = new Promise((_, rejectTimeout) => {
      timer = setTimeout(() => rejectTimeout(new Error(`no end after ${opts.timeoutS} s`)), opts.timeoutS * 1000);
    });
    await page.goto(url, { waitUntil: 'load' });
    try {
      const result = await Promise.race([done, timeout]);
      if (result.failed !== 0) bad++;
    } finally {
      clearTimeout(timer);
    }
    return bad === 0;
  } catch (e) {
    err(`gpu: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.close();
  }
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  err(e.message);
  process.exit(2);
}
const t0 = Date.now();
let ok = true;
if (opts.only !== 'gpu') ok = (await runCpu(opts)) && ok;
if (opts.only !== 'gpu') ok = (await runCpu({ ...opts, entry: 'src/bench/wasm-bench.ts' })) && ok;
if (opts.only !== 'gpu') ok = (await runCpu({ ...opts, entry: 'src/bench/rollout-bench.ts' })) && ok;
if (opts.only !== 'gpu') ok = (await runCpu({ ...opts, entry: 'src/bench/encoder-bench.ts' })) && ok;
if (opts.only !== 'cpu') ok = (await runGpu(opts)) && ok;
err(`finished in ${((Date.now() - t0) / 1000).toFixed(1)} s${ok ? '' : ' with failures'}`);
process.exit(ok ? 0 : 1);
