// The webgpu implementation of Ops: shared shape checks, then one kernel host file per op family.
import { ShapeError } from '../errors.ts';
import {
  checkAttention, checkLogprob, checkMatmul, checkMatmulInt8, checkVector, dtypeOf, expectAlive, expectDtype, fmt,
  rowsCols, sameShape, sizeOf,
} from '../shapes.ts';
import type { AnyTypedArray, DType, Ops, Tensor } from '../types.ts';
import type { GpuContext } from './context.ts';
import { asGpu } from './tensor.ts';
import * as ew from './kernels/elementwise.ts';
import * as mm from './kernels/matmul.ts';
import * as red from './kernels/reduce.ts';
import * as emb from './kernels/embedding.ts';
import * as ln from './kernels/layernorm.ts';
import * as ge from './kernels/gelu.ts';
import * as att from './kernels/attention.ts';
import * as lp from './kernels/logprob.ts';
import * as smp from './kernels/sample.ts';
import * as opt from './kernels/adamw.ts';

export function createGpuOps(ctx: GpuContext): Ops {
  const g = asGpu;
  const ops: Ops = {
    tensor(data, shape) {
      const dtype = dtypeOf(data);
      if (sizeOf(shape) !== data.length) throw new ShapeError(`tensor: ${data.length} values do not fill shape ${fmt(shape)}`);
      return ctx.upload(data, shape, dtype);
    },
    zeros(shape, dtype: DType = 'f32') {
      const n = sizeOf(shape);
      const data = dtype === 'f32' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint32Array(n);
      return ctx.upload(data, shape, dtype);
    },
    async read(t) {
      const gt = g(t);
      const buf = await ctx.read(gt);
      return gt.dtype === 'f32' ? new Float32Array(buf) : gt.dtype === 'i32' ? new Int32Array(buf) : new Uint32Array(buf);
    },
    async readF32(t) {
      expectDtype('readF32', 't', t, 'f32');
      return new Float32Array(await ctx.read(g(t)));
    },
    async readI32(t) {
      expectDtype('readI32', 't', t, 'i32');
      return new Int32Array(await ctx.read(g(t)));
    },
    write(t, data: AnyTypedArray) {
      const gt = g(t);
      if (dtypeOf(data) !== gt.dtype || data.length !== gt.size)
        throw new ShapeError(`write: ${data.length} ${dtypeOf(data)} values into ${gt.dtype} ${fmt(gt.shape)}`);
      ctx.overwrite(gt, data);
    },
    copyRows(dst, row, src) {
      const [dr, dc] = rowsCols('copyRows', 'dst', dst);
      const [sr, sc] = rowsCols('copyRows', 'src', src);
      if (dc !== sc) throw new ShapeError(`copyRows: column counts differ, dst ${fmt(dst.shape)} vs src ${fmt(src.shape)}`);
      if (!Number.isInteger(row) || row < 0 || row + sr > dr)
        throw new ShapeError(`copyRows: rows ${row}..${row + sr} do not fit in dst ${fmt(dst.shape)}`);
      ctx.copy(g(src), 0, g(dst), row * dc * 4, sr * sc * 4);
    },
    dispose(t) {
      if (t.disposed) return;
      ctx.release(g(t));
    },
    flush: () => ctx.flush(),

    matmul(a, b, opts = {}) {
      const [m, k, n] = checkMatmul(a, b, opts);
      return mm.matmul(ctx, g(a), g(b), m, k, n, opts);
    },
    matmulInt8(a, w) {
      const [m, k, n] = checkMatmulInt8(a, w);
      return mm.matmulInt8(ctx, g(a), g(w.q), g(w.scales), m, k, n);
    },

    add(a, b) {
      expectAlive('add', a, b);
      sameShape('add', a, b);
      expectDtype('add', 'a', a, 'f32');
      return ew.add(ctx, g(a), g(b));
    },
    mul(a, b) {
      expectAlive('mul', a, b);
      sameShape('mul', a, b);
      expectDtype('mul', 'a', a, 'f32');
      return ew.mul(ctx, g(a), g(b));
    },
    scale(x, s) {
      expectAlive('scale', x);
      expectDtype('scale', 'x', x, 'f32');
      return ew.scale(ctx, g(x), s);
    },
    addBias(x, bias) {
      const [, n] = rowsCols('addBias', 'x', x);
      checkVector('addBias', 'bias', bias, n);
      return ew.addBias(ctx, g(x), g(bias));
    },
    sum(x) {
      expectAlive('sum', x);
      expectDtype('sum', 'x', x, 'f32');
      return red.sum(ctx, g(x));
    },
    sumRows(x) {
      const [m, n] = rowsCols('sumRows', 'x', x);
      return red.sumRows(ctx, g(x), m, n);
    },

    embedding(table, ids) {
      const [v, d] = rowsCols('embedding', 'table', table);
      expectAlive('embedding', ids);
      expectDtype('embedding', 'ids', ids, 'i32');
      return emb.embedding(ctx, g(table), g(ids), ids.size, v, d);
    },
    embeddingBackward(dOut, ids, vocab) {
      const [n, d] = rowsCols('embeddingBackward', 'dOut', dOut);
      if (ids.length !== n) throw new ShapeError(`embeddingBackward: ${ids.length} ids for dOut ${fmt(dOut.shape)}`);
      for (let i = 0; i < n; i++)
        if (!(ids[i] >= 0 && ids[i] < vocab)) throw new ShapeError(`embeddingBackward: ids[${i}] = ${ids[i]} is outside [0, ${vocab})`);
      return emb.embeddingBackward(ctx, g(dOut), ids, vocab, d);
    },
    layernorm(x, gamma, beta, eps) {
      const [m, n] = rowsCols('layernorm', 'x', x);
      checkVector('layernorm', 'gamma', gamma, n);
      checkVector('layernorm', 'beta', beta, n);
      return ln.layernorm(ctx, g(x), g(gamma), g(beta), m, n, eps);
    },
    layernormBackward(dy, x, gamma, mean, rstd) {
      const [m, n] = rowsCols('layernormBackward', 'x', x);
      sameShape('layernormBackward', dy, x);
      checkVector('layernormBackward', 'gamma', gamma, n);
      checkVector('layernormBackward', 'mean', mean, m);
      checkVector('layernormBackward', 'rstd', rstd, m);
      return ln.layernormBackward(ctx, g(dy), g(x), g(gamma), g(mean), g(rstd), m, n);
    },
    gelu(x) {
      expectAlive('gelu', x);
      expectDtype('gelu', 'x', x, 'f32');
      return ge.gelu(ctx, g(x));
    },
    geluBackward(dy, x) {
      expectAlive('geluBackward', dy, x);
      sameShape('geluBackward', dy, x);
      return ge.geluBackward(ctx, g(dy), g(x));
    },
    attention(q, k, v, spec) {
      const headDim = checkAttention(q, k, v, spec);
      return att.attention(ctx, g(q), g(k), g(v), spec, headDim);
    },
    attentionBackward(dOut, q, k, v, out, lse, spec) {
      const headDim = checkAttention(q, k, v, spec);
      sameShape('attentionBackward', dOut, q);
      sameShape('attentionBackward', out, q);
      checkVector('attentionBackward', 'lse', lse, spec.batch * spec.heads * spec.tq);
      return att.attentionBackward(ctx, g(dOut), g(q), g(k), g(v), g(out), g(lse), spec, headDim);
    },
    logprob(logits, targets) {
      const [rows, vocab] = checkLogprob('logprob', logits, targets);
      return lp.logprob(ctx, g(logits), g(targets), rows, vocab);
    },
    logprobBackward(logits, targets, lse, weight) {
      const [rows, vocab] = checkLogprob('logprobBackward', logits, targets);
      checkVector('logprobBackward', 'lse', lse, rows);
      checkVector('logprobBackward', 'weight', weight, rows);
      return lp.logprobBackward(ctx, g(logits), g(targets), g(lse), g(weight), rows, vocab);
    },
    logprobUnfused(logits, targets) {
      const [rows, vocab] = checkLogprob('logprobUnfused', logits, targets);
      return lp.logprobUnfused(ctx, g(logits), g(targets), rows, vocab);
    },
    sample(logits, uniforms, opts) {
      const [rows, vocab] = rowsCols('sample', 'logits', logits);
      checkVector('sample', 'uniforms', uniforms, rows);
      if (!(opts.temperature > 0)) throw new ShapeError(`sample: temperature must be > 0, got ${opts.temperature}`);
      if (!(opts.topP > 0 && opts.topP <= 1)) throw new ShapeError(`sample: topP must be in (0, 1], got ${opts.topP}`);
      return smp.sample(ctx, g(logits), g(uniforms), rows, vocab, opts);
    },
    adamw(param, grad, m, v, o) {
      expectAlive('adamw', param, grad, m, v);
      sameShape('adamw', param, grad);
      sameShape('adamw', param, m);
      sameShape('adamw', param, v);
      expectDtype('adamw', 'param', param, 'f32');
      opt.adamw(ctx, g(param), g(grad), g(m), g(v), o);
    },
  };
  return ops;
}

export type { Tensor };
