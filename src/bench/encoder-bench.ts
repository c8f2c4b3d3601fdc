// Encoder throughput in Node: our BERT encoder on the fast cpu backend (WASM SIMD kernels) vs onnxruntime-web's
// wasm backend running the same model exported by src/model/onnx-export.ts, with the same thread count (ORT's is
// fixed before its first session, so each thread count runs in its own child process). Both sides take padded
// token ids on the host and return pooled, L2-normalized embeddings on the host; their outputs are checked to
// agree (cosine >= 0.999 per row) before timing.
// Model: the shipped encoder (public/encoder/) when present, else the `small` preset with random weights.
// Batches: queries 64 x 24 tokens and passages 64 x 64 tokens (the shapes of a retrieval eval).
// Run: node scripts/node-run.mjs src/bench/encoder-bench.ts [--budget-ms N] [--filter SUBSTR,...] [--threads 1|2]
// One JSON line per case on stdout ({case, shape, backend, adapter, ours, anchor, anchor_value, ratio, unit, reps,
// texts_per_s}); progress on stderr. Returns 1 when any case failed.
import * as ort from 'onnxruntime-web';
import { createBackend } from '../engine/create.ts';
import { Rng } from '../engine/rng.ts';
import type { Backend } from '../engine/types.ts';
import { BertEncoder, ENCODER_PRESETS, encoderParamShapes, type EncoderConfig } from '../model/encoder.ts';
import { exportEncoderOnnx, onnxInputs } from '../model/onnx-export.ts';
import { type BenchLine, benchLine, errorText, MismatchError, timePair } from './harness.ts';

const log = (msg: string): void => {
  process.stderr.write(`[bench encoder] ${msg}\n`);
};

const SHAPES = [
  { label: 'queries', batch: 64, t: 24 },
  { label: 'passages', batch: 64, t: 64 },
] as const;

interface Args {
  budgetMs: number;
  filters: string[];
  threads: 1 | 2 | null;
}

function parseArgs(args: readonly string[]): Args {
  const o: Args = { budgetMs: 2500, filters: [], threads: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--budget-ms') o.budgetMs = Number(args[++i]);
    else if (a === '--filter') o.filters = (args[++i] ?? '').split(',').map((f) => f.trim()).filter((f) => f.length > 0);
    else if (a === '--threads') {
      const t = Number(args[++i]);
      if (t !== 1 && t !== 2) throw new Error(`encoder-bench: --threads must be 1 or 2, got ${args[i]}`);
      o.threads = t;
    } else throw new Error(`encoder-bench: unknown argument ${a} (expected --budget-ms N, --filter SUBSTR,..., --threads 1|2)`);
  }
  if (!(o.budgetMs > 0)) throw new Error('encoder-bench: --budget-ms must be a positive number');
  return o;
}

/** The shipped encoder's config and weights, or the small preset with random weights. */
async function benchModel(backend: Backend): Promise<{ name: string; config: EncoderConfig; weights: Map<string, Float32Array> }> {
  try {
    const node = await import('../model/encoder-files-node.ts');
    const e = await node.readEncoderDir(backend.ops, node.SHIPPED_ENCODER_DIR);
    const weights = await e.model.weights();
    const config = e.model.config;
    e.dispose();
    return { name: `shipped ${e.id}`, config, weights };
  } catch (e) {
    log(`no shipped encoder (${errorText(e)}): the small preset with random weights`);
    const config: EncoderConfig = { ...ENCODER_PRESETS.small };
    const rng = new Rng(1);
    const weights = new Map<string, Float32Array>();
    for (const [name, shape] of Object.entries(encoderParamShapes(config))) {
      const n = shape.reduce((a, b) => a * b, 1);
      weights.set(name, /LayerNorm\.weight$/.test(name) ? new Float32Array(n).fill(1) : rng.normalArray(n, 0.05));
    }
    return { name: 'small preset (random weights)', config, weights };
  }
}

const configName = (c: EncoderConfig): string => `bert-v${c.vocab}-d${c.dim}-h${c.heads}-l${c.layers}`;

async function embedCase(
  backend: Backend, threads: number, model: BertEncoder, session: ort.InferenceSession, shape: (typeof SHAPES)[number], budgetMs: number,
): Promise<BenchLine & { texts_per_s: { ours: number; anchor: number } }> {
  const { batch, t } = shape;
  const c = model.config;
  const rng = new Rng(batch * 1000 + t);
  // Lengths between t/2 and t (the longest row is t), ids anywhere past the special tokens.
  const lengths = Int32Array.from({ length: batch }, (_, b) => (b === 0 ? t : Math.ceil(t / 2) + rng.int(Math.floor(t / 2) + 1)));
  const ids = new Int32Array(batch * t);
  for (let b = 0; b < batch; b++) for (let j = 0; j < lengths[b]; j++) ids[b * t + j] = 5 + rng.int(c.vocab - 5);
  const { inputIds, attentionMask } = onnxInputs(ids, lengths, batch, t);
  const runOurs = (): Promise<Float32Array> => model.embed(ids, lengths, batch, t);
  const runOrt = async (): Promise<Float32Array> => {
    const out = await session.run({
      input_ids: new ort.Tensor('int64', inputIds, [batch, t]),
      attention_mask: new ort.Tensor('int64', attentionMask, [batch, t]),
    });
    return out.embeddings.data as Float32Array;
  };
  const [a, b] = [await runOurs(), await runOrt()];
  let worst = 1;
  for (let r = 0; r < batch; r++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let j = 0; j < c.dim; j++) {
      const x = a[r * c.dim + j];
      const y = b[r * c.dim + j];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  }
  if (!(worst >= 0.999)) throw new MismatchError(`encoder ${batch}x${t}: ours vs ORT cosine ${worst} < 0.999`);
  log(`${shape.label} ${batch}x${t} (${threads}T): outputs agree (worst cosine 1 - ${(1 - worst).toExponential(2)})`);
  const [ours, anchor] = await timePair(runOurs, runOrt, { warmup: 2, minReps: 5, maxReps: 30, budgetMs });
  const line = benchLine(
    {
      case: `encoder-embed-${threads}t ${shape.label}`,
      shape: `${configName(c)} b${batch}x${t}`,
      backend: 'cpu',
      adapter: backend.info.adapter,
      anchor: `onnxruntime-web wasm (${threads} thread${threads > 1 ? 's' : ''}) on the exported ONNX encoder`,
    },
    ours,
    anchor,
  );
  return { ...line, texts_per_s: { ours: Math.round((1000 * batch) / ours.median), anchor: Math.round((1000 * batch) / anchor.median) } };
}

async function runCases(threads: 1 | 2, o: Args): Promise<number> {
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const backend = await createBackend('cpu', { threads });
  log(`backend ${backend.info.adapter}; onnxruntime-web ${ort.env.versions.web ?? '?'} wasm, numThreads ${String(ort.env.wasm.numThreads)}`);
  const { name, config, weights } = await benchModel(backend);
  log(`model: ${name} ${JSON.stringify(config)}`);
  const model = new BertEncoder(backend.ops, config, weights);
  const session = await ort.InferenceSession.create(exportEncoderOnnx(config, weights), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  let failed = 0;
  try {
    for (const s of SHAPES) {
      const caseName = `encoder-embed-${threads}t ${s.label}`;
      if (o.filters.length > 0 && !o.filters.some((f) => caseName.includes(f))) continue;
      const t0 = performance.now();
      try {
        const line = await embedCase(backend, threads, model, session, s, o.budgetMs);
        process.stdout.write(`${JSON.stringify(line)}\n`);
        log(`${caseName}: ours ${line.ours} ms, ORT ${line.anchor_value} ms, ratio ${line.ratio} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        log(`ERROR ${caseName}: ${errorText(e)} — case aborted`);
      }
    }
  } finally {
    await session.release();
    model.dispose();
    backend.dispose();
  }
  return failed > 0 ? 1 : 0;
}

async function runChildren(o: Args): Promise<number> {
  const { spawn } = (await import(/* @vite-ignore */ 'node:child_process')) as typeof import('node:child_process');
  const { fileURLToPath } = (await import(/* @vite-ignore */ 'node:url')) as typeof import('node:url');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  let status = 0;
  for (const threads of [1, 2] as const) {
    const args = ['scripts/node-run.mjs', 'src/bench/encoder-bench.ts', '--threads', String(threads), '--budget-ms', String(o.budgetMs)];
    if (o.filters.length > 0) args.push('--filter', o.filters.join(','));
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => process.stdout.write(d));
      child.on('close', (c) => resolve(c ?? 1));
      child.on('error', (e) => {
        log(`could not start the ${threads}-thread child: ${e.message}`);
        resolve(1);
      });
    });
    if (code !== 0) status = 1;
  }
  return status;
}

export async function main(args: string[]): Promise<number> {
  const o = parseArgs(args);
  return o.threads === null ? runChildren(o) : runCases(o.threads, o);
}
