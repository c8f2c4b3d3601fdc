// The decode attention kernels give the same bits as the pair-by-pair attention kernel they replace for tq = 1, on
// awkward head sizes and key lengths: attentionDecode (all heads of a batch entry in one pass over its keys and
// values) and attentionRows (any query row against any cache block, the decoder's attentionCached).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireRuntime, releaseRuntime, type WasmRuntime } from '../../src/engine/cpu/wasm/runtime.ts';
import { Rng } from '../../src/engine/rng.ts';
import { bitsOf } from '../shared/wasm-suite.ts';

describe('cpu wasm-simd attentionDecode', () => {
  let rt: WasmRuntime;
  beforeAll(async () => {
    rt = await acquireRuntime(1);
  });
  afterAll(() => releaseRuntime(rt, 1));

  const cases: [batch: number, heads: number, d: number, tk: number, lens: number[] | null][] = [
    [1, 1, 1, 1, null],
    [3, 4, 32, 64, [1, 17, 64]],
    [5, 2, 5, 33, [33, 2, 9, 1, 30]],
    [2, 5, 64, 300, [299, 300]],
    [4, 3, 13, 20, null],
    [40, 4, 32, 128, Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 128))],
  ];
  for (const [batch, heads, d, tk, lens] of cases)
    it(`batch ${batch}, ${heads} heads of ${d}, tk ${tk}${lens ? ', key lengths' : ''}`, () => {
      const rng = new Rng(batch * 1000 + d);
      const width = heads * d;
      const f32 = (n: number): number => rt.alloc(n * 4);
      const [q, k, v] = [f32(batch * width), f32(batch * tk * width), f32(batch * tk * width)];
      const [o1, o2, l1, l2] = [f32(batch * width), f32(batch * width), f32(batch * heads), f32(batch * heads)];
      const s = f32(heads * tk);
      const work = f32(rt.k.gemmScratchBytes() / 4);
      const lp = lens ? rt.alloc(lens.length * 4) : 0;
      const heap = rt.f32;
      heap.set(rng.uniformArray(batch * width, -2, 2), q >>> 2);
      heap.set(rng.uniformArray(batch * tk * width, -2, 2), k >>> 2);
      heap.set(rng.uniformArray(batch * tk * width, -2, 2), v >>> 2);
      if (lens) rt.i32.set(lens, lp >>> 2);
      const scale = Math.fround(1 / Math.sqrt(d));
      rt.k.attentionForward(q, k, v, o1, l1, heads, 1, tk, d, scale, 0, batch * heads, s, work, 1, lp);
      rt.k.attentionDecode(q, k, v, o2, l2, heads, tk, d, scale, 0, batch, s, lp);
      // attentionRows with the rows in reverse order of their blocks, against the same caches.
      const o3 = f32(batch * width);
      const q3 = f32(batch * width);
      const meta = rt.alloc(batch * 8);
      for (let b = 0; b < batch; b++) {
        const r = batch - 1 - b;
        rt.f32.copyWithin((q3 >>> 2) + r * width, (q >>> 2) + b * width, (q >>> 2) + (b + 1) * width);
        rt.i32[(meta >>> 2) + r] = b;
        rt.i32[(meta >>> 2) + batch + r] = lens ? Math.min(lens[b], tk) : tk;
      }
      rt.k.attentionRows(q3, k, v, o3, heads, d, tk, scale, meta, meta + batch * 4, s, 0, batch);
      const view = (p: number, n: number): Float32Array => rt.f32.slice(p >>> 2, (p >>> 2) + n);
      expect(bitsOf(view(o2, batch * width))).toEqual(bitsOf(view(o1, batch * width)));
      expect(bitsOf(view(l2, batch * heads))).toEqual(bitsOf(view(l1, batch * heads)));
      const rows3 = view(o3, batch * width);
      const reversed = new Float32Array(batch * width);
      for (let b = 0; b < batch; b++) reversed.set(rows3.subarray((batch - 1 - b) * width, (batch - b) * width), b * width);
      expect(bitsOf(reversed)).toEqual(bitsOf(view(o1, batch * width)));
    });
});
