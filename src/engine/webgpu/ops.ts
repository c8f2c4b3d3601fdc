// The webgpu implementation of Ops: the shared shape checks of ../shapes.ts, then one kernel host file per family.
import {
  checkAddBias, checkAdamW, checkAttention, checkAttentionBackward, checkCopyRows, checkElementwise, checkEmbedding,
  checkEmbeddingBackward, checkHostData, checkL2normalize, checkL2normalizeBackward, checkLayernorm, checkLayernormBackward, checkLogprob, checkLogprobBackward,
  checkMatmul, checkMatmulInt8, checkSample, checkWrite, expectAlive, expectDtype, rowsCols, sizeOf,
} from '../shapes.ts';
import type { DType, Ops } from '../types.ts';
import type { GpuContext } from './context.ts';
import { asGpu } from './tensor.ts';
import * as ew from './kernels/elementwise.ts';
import * as mm from './kernels/matmul.ts';
import * as red from './kernels/reduce.ts';
import * as emb from './kernels/embedding.ts';
import * as ln from './kernels/layernorm.ts';
import * as ge from './kernels/gelu.ts';
import * as att from './kernels/attention.ts';
import * as l2 from './kernels/l2normalize.ts';
import * as lp from './kernels/logprob.ts';
import * as smp from './kernels/sample.ts';
import * as opt from './kernels/adamw.ts';

export function createGpuOps(ctx: GpuContext): Ops {
  const g = asGpu;
  const unary = (op: string, x: Parameters<typeof asGpu>[0]) => {
    expectAlive(op, x);
    expectDtype(op, 'x', x, 'f32');
    return g(x);
  };
  const ops: Ops = {
    tensor(data, shape) {
      return ctx.upload(data, shape, checkHostData('tensor', data, shape));
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
    write(t, data) {
      checkWrite(t, data);
      ctx.overwrite(g(t), data);
    },
    copyRows(dst, row, src) {
      checkCopyRows(dst, row, src);
      const cols = dst.shape[1];
      ctx.copy(g(src), 0, g(dst), row * cols * 4, src.size * 4);
    },
    dispose(t) {
      if (!t.disposed) ctx.release(g(t));
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
      checkElementwise('add', a, b);
      return ew.add(ctx, g(a), g(b));
    },
    mul(a, b) {
      checkElementwise('mul', a, b);
      return ew.mul(ctx, g(a), g(b));
    },
    scale: (x, s) => ew.scale(ctx, unary('scale', x), s),
    addBias(x, bias) {
      checkAddBias(x, bias);
      return ew.addBias(ctx, g(x), g(bias));
    },
    sum: (x) => red.sum(ctx, unary('sum', x)),
    sumRows(x) {
      const [m, n] = rowsCols('sumRows', 'x', x);
      return red.sumRows(ctx, g(x), m, n);
    },
    embedding(table, ids) {
      const [n, v, d] = checkEmbedding(table, ids);
      return emb.embedding(ctx, g(table), g(ids), n, v, d);
    },
    embeddingBackward(dOut, ids, vocab) {
      const [, d] = checkEmbeddingBackward(dOut, ids, vocab);
      return emb.embeddingBackward(ctx, g(dOut), ids, vocab, d);
    },
    layernorm(x, gamma, beta, eps) {
      const [m, n] = checkLayernorm(x, gamma, beta, eps);
      return ln.layernorm(ctx, g(x), g(gamma), g(beta), m, n, eps);
    },
    layernormBackward(dy, x, gamma, mean, rstd) {
      const [m, n] = checkLayernormBackward(dy, x, gamma, mean, rstd);
      return ln.layernormBackward(ctx, g(dy), g(x), g(gamma), g(mean), g(rstd), m, n);
    },
    gelu: (x) => ge.gelu(ctx, unary('gelu', x)),
    geluBackward(dy, x) {
      checkElementwise('geluBackward', dy, x);
      return ge.geluBackward(ctx, g(dy), g(x));
    },
    attention(q, k, v, spec) {
      const headDim = checkAttention(q, k, v, spec);
      return att.attention(ctx, g(q), g(k), g(v), spec, headDim);
    },
    attentionBackward(dOut, q, k, v, out, lse, spec) {
      const headDim = checkAttentionBackward(dOut, q, k, v, out, lse, spec);
      return att.attentionBackward(ctx, g(dOut), g(q), g(k), g(v), g(out), g(lse), spec, headDim);
    },
    l2normalize(x, eps) {
      const [m, n] = checkL2normalize(x, eps);
      return l2.l2normalize(ctx, g(x), m, n, eps);
    },
    l2normalizeBackward(dy, y, norm, eps) {
      const [m, n] = checkL2normalizeBackward(dy, y, norm, eps);
      return l2.l2normalizeBackward(ctx, g(dy), g(y), g(norm), m, n, eps);
    },
    logprob(logits, targets) {
      const [rows, vocab] = checkLogprob('logprob', logits, targets);
      return lp.logprob(ctx, g(logits), g(targets), rows, vocab);
    },
    logprobBackward(logits, targets, lse, weight) {
      const [rows, vocab] = checkLogprobBackward(logits, targets, lse, weight);
      return lp.logprobBackward(ctx, g(logits), g(targets), g(lse), g(weight), rows, vocab);
    },
    logprobUnfused(logits, targets) {
      const [rows, vocab] = checkLogprob('logprobUnfused', logits, targets);
      return lp.logprobUnfused(ctx, g(logits), g(targets), rows, vocab);
    },
    sample(logits, uniforms, opts) {
      const [rows, vocab] = checkSample(logits, uniforms, opts);
      return smp.sample(ctx, g(logits), g(uniforms), rows, vocab, opts);
    },
    adamw(param, grad, m, v, o) {
      checkAdamW(param, grad, m, v, o);
      opt.adamw(ctx, g(param), g(grad), g(m), g(v), o);
    },
  };
  return ops;
}
