// One encoder throughput case, shared by the Node benchmark (src/bench/encoder-bench.ts: WASM backend vs ORT wasm)
// and the Chromium one (tests/bench/gpu-bench.ts: WebGPU backend vs ORT's webgpu EP): random padded token ids,
// both sides from host ids to host pooled L2-normalized embeddings, checked to agree (cosine >= 0.999 on every
// row) before they are timed.
import type * as ort from 'onnxruntime-web';
import { Rng } from '../engine/rng.ts';
import { type BertEncoder, type EncoderConfig, encoderParamShapes } from '../model/encoder.ts';
import { onnxInputs } from '../model/onnx-export.ts';
import { type BenchLine, benchLine, MismatchError, timePair } from './harness.ts';

export const ENCODER_SHAPES = [
  { label: 'queries', batch: 64, t: 24 },
  { label: 'passages', batch: 64, t: 64 },
] as const;

export type EncoderShape = (typeof ENCODER_SHAPES)[number];

export const encoderConfigName = (c: EncoderConfig): string => `bert-v${c.vocab}-d${c.dim}-h${c.heads}-l${c.layers}`;

export interface EncoderCaseLabels {
  /** The case name, e.g. `encoder-embed-2t queries`. */
  name: string;
  backend: 'cpu' | 'webgpu';
  adapter: string;
  anchor: string;
}

/** Cosine similarity of two embeddings. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Worst per-row cosine between two [rows, dim] embedding matrices. */
export function worstCosine(a: Float32Array, b: Float32Array, rows: number, dim: number): number {
  let worst = 1;
  for (let r = 0; r < rows; r++) worst = Math.min(worst, cosine(a.subarray(r * dim, (r + 1) * dim), b.subarray(r * dim, (r + 1) * dim)));
  return worst;
}

export async function encoderCase(
  ortApi: typeof ort, labels: EncoderCaseLabels, model: BertEncoder, session: ort.InferenceSession, shape: EncoderShape,
  budgetMs: number, log: (msg: string) => void,
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
      input_ids: new ortApi.Tensor('int64', inputIds, [batch, t]),
      attention_mask: new ortApi.Tensor('int64', attentionMask, [batch, t]),
    });
    return (await out.embeddings.getData()) as Float32Array;
  };
  const worst = worstCosine(await runOurs(), await runOrt(), batch, c.dim);
  if (!(worst >= 0.999)) throw new MismatchError(`${labels.name} ${batch}x${t}: ours vs ORT cosine ${worst} < 0.999`);
  log(`${labels.name} ${batch}x${t}: outputs agree (worst cosine 1 - ${(1 - worst).toExponential(2)})`);
  const [ours, anchor] = await timePair(runOurs, runOrt, { warmup: 2, minReps: 5, maxReps: 30, budgetMs });
  const line = benchLine(
    { case: labels.name, shape: `${encoderConfigName(c)} b${batch}x${t}`, backend: labels.backend, adapter: labels.adapter, anchor: labels.anchor },
    ours,
    anchor,
  );
  return { ...line, texts_per_s: { ours: Math.round((1000 * batch) / ours.median), anchor: Math.round((1000 * batch) / anchor.median) } };
}

/** Random weights for an encoder config (LayerNorm gains 1): the benchmark's model when none is shipped. */
export function randomEncoderWeights(config: EncoderConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of Object.entries(encoderParamShapes(config))) {
    const n = shape.reduce((a, b) => a * b, 1);
    weights.set(name, /LayerNorm\.weight$/.test(name) ? new Float32Array(n).fill(1) : rng.normalArray(n, 0.05));
  }
  return weights;
}
