// Embedding gather and its scatter-add backward (rows accumulated in float64 in ascending id-position order).
import { checkEmbedding, checkEmbeddingBackward, checkIndices } from '../shapes.ts';
import type { Tensor } from '../types.ts';
import { f32, f32Tensor, i32 } from './tensor.ts';

export function embedding(table: Tensor, ids: Tensor): Tensor {
  const [n, vocab, dim] = checkEmbedding(table, ids);
  const W = f32('embedding', table);
  const I = i32('embedding', ids);
  checkIndices('embedding', 'ids', I, vocab);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) out.set(W.subarray(I[i] * dim, (I[i] + 1) * dim), i * dim);
  return f32Tensor(out, [n, dim]);
}

export function embeddingBackward(dOut: Tensor, ids: Int32Array, vocab: number): Tensor {
  const [n, dim] = checkEmbeddingBackward(dOut, ids, vocab);
  const G = f32('embeddingBackward', dOut);
  const acc = new Float64Array(vocab * dim);
  for (let i = 0; i < n; i++) {
    const o = ids[i] * dim;
    for (let d = 0; d < dim; d++) acc[o + d] += G[i * dim + d];
  }
  return f32Tensor(Float32Array.from(acc), [vocab, dim]);
}
