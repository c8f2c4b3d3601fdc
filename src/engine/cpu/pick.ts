// An optional op of the cpu backends, outside the Ops interface: the decoder's next-token pick in one call. Greedy
// (temperature 0): the first index of each row's maximum and its log softmax(logits); otherwise: sample(logits,
// uniforms, {temperature, topP}) and log softmax(logits / temperature) at the sampled token (the tempered
// distribution before the nucleus cut). The WASM backend fuses it into one pass-set per row
// (assembly/sample.ts pickRows); this file's reference composes the reference ops (the oracle the kernel is
// checked against). The KV-cache decoder uses it where present (src/model/decoder-cache.ts).
import { ShapeError } from '../errors.ts';
import { checkSample, checkVector, rowsCols } from '../shapes.ts';
import type { Ops, Tensor } from '../types.ts';
import { scale } from './elementwise.ts';
import { logprob } from './logprob.ts';
import { sample } from './sample.ts';
import { CpuTensor, f32 } from './tensor.ts';

export interface PickOptions {
  /** 0: greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1] (ignored when greedy). */
  topP: number;
}

export interface PickOp {
  /** tokens: i32 [rows]; logprobs: f32 [rows]. `uniforms` f32 [rows] (ignored when greedy). */
  pick(logits: Tensor, uniforms: Tensor, opts: PickOptions): { tokens: Tensor; logprobs: Tensor };
}

/** The backend's pick, or null when it has none. */
export function pickOp(ops: Ops): PickOp['pick'] | null {
  const f = (ops as Ops & Partial<PickOp>).pick;
  return typeof f === 'function' ? f.bind(ops) : null;
}

/** Shape and option checks of pick; returns [rows, vocab]. */
export function checkPick(logits: Tensor, uniforms: Tensor, opts: PickOptions): [number, number] {
  if (opts.temperature === 0) {
    const [rows, vocab] = rowsCols('pick', 'logits', logits);
    checkVector('pick', 'uniforms', uniforms, rows);
    if (vocab < 1) throw new ShapeError('pick: logits have no columns');
    return [rows, vocab];
  }
  return checkSample(logits, uniforms, opts);
}

/** The reference pick (float64). */
export function pick(logits: Tensor, uniforms: Tensor, opts: PickOptions): { tokens: Tensor; logprobs: Tensor } {
  const [rows, vocab] = checkPick(logits, uniforms, opts);
  if (opts.temperature === 0) {
    const X = f32('pick', logits);
    const tokens = new Int32Array(rows);
    const logprobs = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const o = r * vocab;
      let best = 0;
      for (let c = 1; c < vocab; c++) if (X[o + c] > X[o + best]) best = c;
      const max = X[o + best];
      let z = 0;
      for (let c = 0; c < vocab; c++) z += Math.exp(X[o + c] - max);
      tokens[r] = best;
      logprobs[r] = -Math.log(z);
    }
    return { tokens: new CpuTensor(tokens, [rows], 'i32'), logprobs: new CpuTensor(logprobs, [rows], 'f32') };
  }
  const tokens = sample(logits, uniforms, opts);
  const scaled = opts.temperature === 1 ? logits : scale(logits, 1 / opts.temperature);
  const { logp } = logprob(scaled, tokens);
  return { tokens, logprobs: logp };
}
