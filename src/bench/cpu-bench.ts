// Node benchmarks of the `cpu` backend against onnxruntime-web's wasm backend (one thread; our CPU backend is
// single-threaded plain TypeScript) and against our own unfused logprob. Run through Vite's module runner:
//   node scripts/node-run.mjs src/bench/cpu-bench.ts [--budget-ms N] [--filter SUBSTR,...]
// One JSON line per case on stdout; progress and errors on stderr. Returns 1 when any case failed.
import * as ort from 'onnxruntime-web';
import { createBackend } from '../engine/create.ts';
import type { Backend } from '../engine/types.ts';
import {
  type BenchLine, type MatmulShape, benchLine, errorText, expectClose, matmulShape, randomF32, randomTargets, timePair,
} from './harness.ts';
import { logprobModel, matmulModel } from './onnx-model.ts';
import { ortLogprobRunner, ortMatmulRunner, wasmSession } from './ort-runners.ts';

const log = (msg: string): void => {
  process.stderr.write(`[bench cpu] ${msg}\n`);
};
const emit = (line: BenchLine): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const MATMUL_SHAPES: readonly (MatmulShape & { label: string })[] = [
  { label: 'decode', m: 1, k: 128, n: 512 },
  { label: 'decode-batch', m: 8, k: 128, n: 512 },
  { label: 'training', m: 2048, k: 128, n: 512 },
];
const LOGPROB_SHAPES = [{ rows: 256, vocab: 4096 }] as const;

const ORT_WASM = 'onnxruntime-web (wasm)';

function parseArgs(args: readonly string[]): { budgetMs: number; filters: string[] } {
  let budgetMs = 2500;
  let filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--budget-ms') budgetMs = Number(args[++i]);
    else if (args[i] === '--filter') filters = (args[++i] ?? '').split(',').map((f) => f.trim()).filter((f) => f.length > 0);
    else throw new Error(`cpu-bench: unknown argument ${args[i]} (expected --budget-ms N, --filter SUBSTR,...)`);
  }
  if (!(budgetMs > 0)) throw new Error('cpu-bench: --budget-ms must be a positive number');
  return { budgetMs, filters };
}

async function matmulCase(backend: Backend, s: MatmulShape, budgetMs: number): Promise<BenchLine> {
  const { m, k, n } = s;
  const a = randomF32(m * k, 1 + m);
  const b = randomF32(k * n, 2 + n);
  const session = await wasmSession(matmulModel(m, k, n));
  try {
    const runOrt = ortMatmulRunner(session, a, b, m, k, n);
    const diff = expectClose(`matmul ${matmulShape(m, k, n)} ort vs ours`, await runOrt(), await backend.matmul(a, b, m, k, n), 1e-4, 1e-4);
    log(`matmul ${matmulShape(m, k, n)}: outputs agree (max |diff| ${diff.toExponential(2)})`);
    // Our CPU matmul is O(mkn) plain TypeScript: the training shape takes a while, so fewer reps there.
    const big = m * k * n > 1e7;
    const [ours, anchor] = await timePair(() => backend.matmul(a, b, m, k, n), runOrt, {
      warmup: big ? 1 : 3, minReps: big ? 5 : 10, maxReps: big ? 7 : 50, budgetMs,
    });
    return benchLine(
      { case: 'matmul-array', shape: matmulShape(m, k, n), backend: 'cpu', adapter: backend.info.adapter, anchor: `${ORT_WASM} MatMul (1 thread)` },
      ours,
      anchor,
    );
  } finally {
    await session.release();
  }
}

async function logprobOrtCase(backend: Backend, rows: number, vocab: number, budgetMs: number): Promise<BenchLine> {
  const logits = randomF32(rows * vocab, 3 + rows, 8);
  const targets = randomTargets(rows, vocab, 4 + vocab);
  const session = await wasmSession(logprobModel(rows, vocab));
  try {
    const runOrt = ortLogprobRunner(session, logits, targets, rows, vocab);
    const diff = expectClose(
      `logprob ${rows}x${vocab} ort vs ours`, await runOrt(), await backend.logprob(logits, targets, rows, vocab), 1e-4, 1e-5,
    );
    log(`logprob ${rows}x${vocab}: outputs agree (max |diff| ${diff.toExponential(2)})`);
    const opts = { warmup: 3, minReps: 10, maxReps: 50, budgetMs };
    const [ours, anchor] = await timePair(() => backend.logprob(logits, targets, rows, vocab), runOrt, opts);
    return benchLine(
      {
        case: 'logprob-array',
        shape: `${rows}x${vocab}`,
        backend: 'cpu',
        adapter: backend.info.adapter,
        anchor: `${ORT_WASM} LogSoftmax+GatherElements (1 thread)`,
      },
      ours,
      anchor,
    );
  } finally {
    await session.release();
  }
}

/** Fused vs unfused, on tensors created once (the CPU backend's "resident" data). */
async function logprobUnfusedCase(backend: Backend, rows: number, vocab: number, budgetMs: number): Promise<BenchLine> {
  const { ops } = backend;
  const logits = ops.tensor(randomF32(rows * vocab, 5 + rows, 8), [rows, vocab]);
  const targets = ops.tensor(randomTargets(rows, vocab, 6 + vocab), [rows]);
  try {
    const fused = async (): Promise<Float32Array> => {
      const { logp, lse } = ops.logprob(logits, targets);
      const out = await ops.readF32(logp);
      ops.dispose(logp);
      ops.dispose(lse);
      return out;
    };
    const unfused = async (): Promise<Float32Array> => {
      const logp = ops.logprobUnfused(logits, targets);
      const out = await ops.readF32(logp);
      ops.dispose(logp);
      return out;
    };
    const diff = expectClose(`logprob ${rows}x${vocab} fused vs unfused`, await fused(), await unfused(), 1e-4, 1e-5);
    log(`logprob ${rows}x${vocab}: fused and unfused agree (max |diff| ${diff.toExponential(2)})`);
    const opts = { warmup: 3, minReps: 10, maxReps: 50, budgetMs };
    const [ours, anchor] = await timePair(fused, unfused, opts);
    return benchLine(
      { case: 'logprob-resident', shape: `${rows}x${vocab}`, backend: 'cpu', adapter: backend.info.adapter, anchor: 'ours-unfused' },
      ours,
      anchor,
    );
  } finally {
    ops.dispose(logits);
    ops.dispose(targets);
  }
}

export async function main(args: string[]): Promise<number> {
  const { budgetMs, filters } = parseArgs(args);
  // One thread, fixed before the first session: the comparison is single-threaded on both sides.
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const backend = await createBackend('cpu', { reference: true });
  log(`backend ${backend.info.adapter}; onnxruntime-web ${ort.env.versions.web ?? '?'} wasm, numThreads ${String(ort.env.wasm.numThreads)}`);
  const cases: { name: string; run: () => Promise<BenchLine> }[] = [
    ...MATMUL_SHAPES.map((s) => ({ name: `matmul-array ${matmulShape(s.m, s.k, s.n)}`, run: () => matmulCase(backend, s, budgetMs) })),
    ...LOGPROB_SHAPES.map(({ rows, vocab }) => ({
      name: `logprob-array ${rows}x${vocab}`,
      run: () => logprobOrtCase(backend, rows, vocab, budgetMs),
    })),
    ...LOGPROB_SHAPES.map(({ rows, vocab }) => ({
      name: `logprob-resident ${rows}x${vocab}`,
      run: () => logprobUnfusedCase(backend, rows, vocab, budgetMs),
    })),
  ];
  const selected = filters.length === 0 ? cases : cases.filter((c) => filters.some((f) => c.name.includes(f)));
  let failed = 0;
  for (const c of selected) {
    const t0 = performance.now();
    try {
      const line = await c.run();
      emit(line);
      log(`${c.name}: ours ${line.ours} ms, anchor ${line.anchor_value} ms, ratio ${line.ratio} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      log(`ERROR ${c.name}: ${errorText(e)} — case aborted`);
    }
  }
  backend.dispose();
  return failed > 0 ? 1 : 0;
}
