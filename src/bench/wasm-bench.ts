// Node benchmarks of the fast cpu backend (WebAssembly SIMD kernels, src/engine/cpu/wasm):
//   - matmul (plain arrays in, plain array out) vs onnxruntime-web's wasm MatMul, both with 1 thread and both with
//     2 threads (ORT's thread count is fixed before its first session, so each thread count runs in its own child
//     process): decode 1x128x512, decode batch 8x128x512, training 2048x128x512;
//   - fused logprob vs ORT LogSoftmax + GatherElements, same thread counts;
//   - one training step (forward, backward, AdamW) of a 4-layer transformer policy on the fast path vs the
//     TypeScript reference path;
//   - (2-thread run) the hot kernels on resident tensors, 2 threads vs 1 thread of our own backend.
// Run: node scripts/node-run.mjs src/bench/wasm-bench.ts [--budget-ms N] [--filter SUBSTR,...] [--threads 1|2]
// Without --threads the entry runs itself once per thread count in child processes and forwards their lines.
// One JSON line per case on stdout ({case, shape, backend, adapter, ours, anchor, anchor_value, ratio, unit, reps});
// progress and errors on stderr. Returns 1 when any case failed.
import * as ort from 'onnxruntime-web';
import { createBackend, createCpuReferenceBackend } from '../engine/create.ts';
import { AdamW } from '../engine/optim.ts';
import { Rng } from '../engine/rng.ts';
import { Tape } from '../engine/tape.ts';
import type { Backend, Ops } from '../engine/types.ts';
import { lmLoss, Transformer, type TransformerConfig } from '../model/transformer.ts';
import {
  type BenchLine, type MatmulShape, benchLine, errorText, expectClose, expectMatmulSample, logprobReference, matmulShape,
  randomF32, randomTargets, timePair,
} from './harness.ts';
import { logprobModel, matmulModel } from './onnx-model.ts';
import { ortLogprobRunner, ortMatmulRunner, wasmSession } from './ort-runners.ts';
import { parseThreadedArgs, runThreadChildren, type ThreadedArgs } from './threaded.ts';

const log = (msg: string): void => {
  process.stderr.write(`[bench wasm] ${msg}\n`);
};
const emit = (line: BenchLine): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const MATMUL_SHAPES: readonly (MatmulShape & { label: string })[] = [
  { label: 'decode', m: 1, k: 128, n: 512 },
  { label: 'decode-batch', m: 8, k: 128, n: 512 },
  { label: 'training', m: 2048, k: 128, n: 512 },
];
const LOGPROB_SHAPES = [
  { rows: 256, vocab: 4096 },
  { rows: 16, vocab: 30011 },
] as const;

/** The policy the training-step case trains (no `small` preset yet): ~1.1M parameters. */
const TRAIN_CONFIG: TransformerConfig = { vocab: 2048, dim: 128, heads: 4, layers: 4, context: 128, mlpRatio: 4 };
const TRAIN_BATCH = 8;
const TRAIN_T = 128;
const TRAIN_NAME = 'tx-v2048-d128-h4-l4-c128-mlp4';

type Args = ThreadedArgs;

const ortName = (threads: number): string => `onnxruntime-web wasm (${threads} thread${threads > 1 ? 's' : ''})`;

async function matmulCase(backend: Backend, threads: number, s: MatmulShape, budgetMs: number): Promise<BenchLine> {
  const { m, k, n } = s;
  const a = randomF32(m * k, 11 + m);
  const b = randomF32(k * n, 12 + n);
  const session = await wasmSession(matmulModel(m, k, n));
  try {
    const runOrt = ortMatmulRunner(session, a, b, m, k, n);
    const ours = await backend.matmul(a, b, m, k, n);
    const tol = { atol: 1e-4 * Math.max(1, Math.sqrt(k) / 4), rtol: 1e-4 };
    expectMatmulSample(`matmul ${matmulShape(m, k, n)} ours`, ours, a, b, m, k, n, tol);
    const diff = expectClose(`matmul ${matmulShape(m, k, n)} ort vs ours`, await runOrt(), ours, tol.atol, tol.rtol);
    log(`matmul ${matmulShape(m, k, n)} (${threads}T): outputs agree (max |diff| ${diff.toExponential(2)})`);
    const [t1, t2] = await timePair(() => backend.matmul(a, b, m, k, n), runOrt, {
      warmup: 5, minReps: 15, maxReps: 400, budgetMs,
    });
    return benchLine(
      { case: `matmul-array-${threads}t`, shape: matmulShape(m, k, n), backend: 'cpu', adapter: backend.info.adapter, anchor: `${ortName(threads)} MatMul` },
      t1,
      t2,
    );
  } finally {
    await session.release();
  }
}

async function logprobCase(backend: Backend, threads: number, rows: number, vocab: number, budgetMs: number): Promise<BenchLine> {
  const logits = randomF32(rows * vocab, 13 + rows, 8);
  const targets = randomTargets(rows, vocab, 14 + vocab);
  const session = await wasmSession(logprobModel(rows, vocab));
  try {
    const runOrt = ortLogprobRunner(session, logits, targets, rows, vocab);
    const ours = await backend.logprob(logits, targets, rows, vocab);
    expectClose(`logprob ${rows}x${vocab} ours vs float64`, ours, logprobReference(logits, targets, rows, vocab), 1e-4, 1e-5);
    const diff = expectClose(`logprob ${rows}x${vocab} ort vs ours`, await runOrt(), ours, 1e-4, 1e-5);
    log(`logprob ${rows}x${vocab} (${threads}T): outputs agree (max |diff| ${diff.toExponential(2)})`);
    const [t1, t2] = await timePair(() => backend.logprob(logits, targets, rows, vocab), runOrt, {
      warmup: 3, minReps: 10, maxReps: 100, budgetMs,
    });
    return benchLine(
      {
        case: `logprob-array-${threads}t`,
        shape: `${rows}x${vocab}`,
        backend: 'cpu',
        adapter: backend.info.adapter,
        anchor: `${ortName(threads)} LogSoftmax+GatherElements`,
      },
      t1,
      t2,
    );
  } finally {
    await session.release();
  }
}

/** A model plus optimizer on one Ops, stepping on fixed random token batches. */
class Trainer {
  readonly model: Transformer;
  readonly opt: AdamW;
  private step = 0;
  constructor(readonly ops: Ops, seed: number) {
    this.model = new Transformer(ops, TRAIN_CONFIG, seed);
    this.opt = new AdamW(ops, this.model.params, { lr: 1e-3, weightDecay: 0.01 });
  }
  /** forward + backward + AdamW on batch `s`; returns the loss (read back, as a training loop logs it). */
  async run(): Promise<number> {
    const rng = new Rng(1000 + this.step++);
    const ids = rng.intArray(TRAIN_BATCH * TRAIN_T, TRAIN_CONFIG.vocab);
    const tape = new Tape(this.ops);
    const loss = lmLoss(this.model, tape, ids, TRAIN_BATCH, TRAIN_T);
    const value = (await this.ops.readF32(loss.value))[0];
    tape.backward(loss);
    tape.dispose();
    this.opt.update();
    return value;
  }
  dispose(): void {
    this.opt.dispose();
    this.model.dispose();
  }
}

async function trainStepCase(backend: Backend, threads: number): Promise<BenchLine> {
  const ref = createCpuReferenceBackend();
  const fast = new Trainer(backend.ops, 5);
  const slow = new Trainer(ref.ops, 5);
  try {
    // Same weights, same first batch: the losses agree before any timing.
    const lf = await fast.run();
    const ls = await slow.run();
    if (!(Math.abs(lf - ls) < 1e-3)) throw new Error(`train step: loss ${lf} (fast) vs ${ls} (reference)`);
    log(`train step ${TRAIN_NAME} (${threads}T): first losses agree (${lf.toFixed(5)} vs ${ls.toFixed(5)}), ${fast.model.parameterCount} parameters`);
    const [t1, t2] = await timePair(() => fast.run(), () => slow.run(), { warmup: 0, minReps: 3, maxReps: 3, budgetMs: 1 });
    return benchLine(
      {
        case: `train-step-${threads}t ${TRAIN_NAME}`,
        shape: `batch ${TRAIN_BATCH}x${TRAIN_T} tokens`,
        backend: 'cpu',
        adapter: backend.info.adapter,
        anchor: 'cpu reference (TypeScript) train step',
      },
      t1,
      t2,
    );
  } finally {
    fast.dispose();
    slow.dispose();
  }
}

/** One kernel on resident tensors: set up once per backend, then timed per call. */
interface ResidentKernel {
  name: string;
  shape: string;
  setup(ops: Ops, rng: Rng): () => void;
}

const RESIDENT: readonly ResidentKernel[] = [
  {
    name: 'matmul',
    shape: '2048x128x512',
    setup: (o, r) => {
      const a = o.tensor(r.uniformArray(2048 * 128), [2048, 128]);
      const b = o.tensor(r.uniformArray(128 * 512), [128, 512]);
      return () => o.dispose(o.matmul(a, b));
    },
  },
  {
    name: 'matmul transB (logits)',
    shape: '1024x128x2048',
    setup: (o, r) => {
      const a = o.tensor(r.uniformArray(1024 * 128), [1024, 128]);
      const b = o.tensor(r.uniformArray(2048 * 128), [2048, 128]);
      return () => o.dispose(o.matmul(a, b, { transB: true }));
    },
  },
  {
    name: 'attention fwd+bwd',
    shape: 'b8 h4 t128 d32',
    setup: (o, r) => {
      const spec = { batch: 8, heads: 4, tq: 128, tk: 128 };
      const q = o.tensor(r.uniformArray(1024 * 128), [1024, 128]);
      return () => {
        const { out, lse } = o.attention(q, q, q, spec);
        const g = o.attentionBackward(q, q, q, q, out, lse, spec);
        for (const t of [out, lse, g.dq, g.dk, g.dv]) o.dispose(t);
      };
    },
  },
  {
    name: 'logprob fwd+bwd',
    shape: '1024x2048',
    setup: (o, r) => {
      const x = o.tensor(r.uniformArray(1024 * 2048, -8, 8), [1024, 2048]);
      const t = o.tensor(r.intArray(1024, 2048), [1024]);
      const w = o.tensor(r.uniformArray(1024), [1024]);
      return () => {
        const { logp, lse } = o.logprob(x, t);
        o.logprobBackward(x, t, lse, w);
        o.dispose(logp);
        o.dispose(lse);
      };
    },
  },
  {
    name: 'gelu fwd+bwd',
    shape: '1024x512',
    setup: (o, r) => {
      const x = o.tensor(r.uniformArray(1024 * 512, -4, 4), [1024, 512]);
      return () => {
        o.dispose(o.gelu(x));
        o.dispose(o.geluBackward(x, x));
      };
    },
  },
  {
    name: 'adamw',
    shape: `${1 << 20} params`,
    setup: (o, r) => {
      const n = 1 << 20;
      const p = o.tensor(r.uniformArray(n), [n]);
      const g = o.tensor(r.uniformArray(n), [n]);
      const m = o.zeros([n]);
      const v = o.zeros([n]);
      let step = 1;
      return () => o.adamw(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: step++ });
    },
  },
];

/** A kernel on resident tensors, 2 threads vs 1 thread of our own backend (the threading speed-up). */
async function residentCase(two: Backend, one: Backend, kernel: ResidentKernel, budgetMs: number): Promise<BenchLine> {
  const f2 = kernel.setup(two.ops, new Rng(7));
  const f1 = kernel.setup(one.ops, new Rng(7));
  const [t2, t1] = await timePair(async () => f2(), async () => f1(), { warmup: 3, minReps: 10, maxReps: 200, budgetMs });
  return benchLine(
    { case: `resident-2t-vs-1t ${kernel.name}`, shape: kernel.shape, backend: 'cpu', adapter: two.info.adapter, anchor: `ours, ${one.info.adapter}` },
    t2,
    t1,
  );
}

/** Runs every case for one thread count in this process. */
async function runCases(threads: 1 | 2, o: Args): Promise<number> {
  // Fixed before the first session: ORT and our backend get the same number of threads.
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const backend = await createBackend('cpu', { threads });
  log(`backend ${backend.info.adapter}; onnxruntime-web ${ort.env.versions.web ?? '?'} wasm, numThreads ${String(ort.env.wasm.numThreads)}`);
  if (!backend.info.adapter.startsWith('CPU wasm-simd')) throw new Error(`wasm-bench: the cpu backend is not the wasm one: ${backend.info.adapter} (${backend.info.fallbackReason})`);
  const cases: { name: string; run: () => Promise<BenchLine> }[] = [
    ...MATMUL_SHAPES.map((s) => ({ name: `matmul-array-${threads}t ${matmulShape(s.m, s.k, s.n)}`, run: () => matmulCase(backend, threads, s, o.budgetMs) })),
    ...LOGPROB_SHAPES.map(({ rows, vocab }) => ({
      name: `logprob-array-${threads}t ${rows}x${vocab}`,
      run: () => logprobCase(backend, threads, rows, vocab, o.budgetMs),
    })),
    { name: `train-step-${threads}t ${TRAIN_NAME}`, run: () => trainStepCase(backend, threads) },
  ];
  let single: Backend | null = null;
  if (threads === 2 && backend.info.adapter.endsWith('2 threads')) {
    single = await createBackend('cpu', { threads: 1 });
    const one = single;
    for (const k of RESIDENT)
      cases.push({ name: `resident-2t-vs-1t ${k.name}`, run: () => residentCase(backend, one, k, o.budgetMs) });
  }
  const selected = o.filters.length === 0 ? cases : cases.filter((c) => o.filters.some((f) => c.name.includes(f)));
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
  single?.dispose();
  return failed > 0 ? 1 : 0;
}

export async function main(args: string[]): Promise<number> {
  const o = parseThreadedArgs('wasm-bench', args);
  return o.threads === null ? runThreadChildren('src/bench/wasm-bench.ts', o, log) : runCases(o.threads, o);
}
