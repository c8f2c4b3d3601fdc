// The array-level half of the public Backend (matmul / logprob on plain typed arrays) and its event hub,
// built once over any Ops implementation.
import { ShapeError } from './errors.ts';
import type { Backend, BackendEvent, BackendInfo, Ops } from './types.ts';

function expectLength(op: string, name: string, arr: ArrayLike<number>, want: number, dims: string): void {
  if (arr.length !== want)
    throw new ShapeError(`${op}: ${name} has ${arr.length} elements, expected ${want} for ${dims}`);
}

function expectDims(op: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims))
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${op}: ${k} must be a positive integer, got ${v}`);
}

export class EventHub {
  private listeners = new Set<(e: BackendEvent) => void>();
  on(listener: (e: BackendEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: BackendEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

export function makeBackend(ops: Ops, info: BackendInfo, hub: EventHub, dispose: () => void): Backend {
  return {
    kind: info.kind,
    info,
    ops,
    on: (l) => hub.on(l),
    dispose,
    async matmul(a, b, m, k, n) {
      expectDims('matmul', { m, k, n });
      if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) throw new ShapeError('matmul: a and b must be Float32Array');
      expectLength('matmul', 'a', a, m * k, `[m=${m}, k=${k}]`);
      expectLength('matmul', 'b', b, k * n, `[k=${k}, n=${n}]`);
      const ta = ops.tensor(a, [m, k]);
      const tb = ops.tensor(b, [k, n]);
      const tc = ops.matmul(ta, tb);
      try {
        return await ops.readF32(tc);
      } finally {
        ops.dispose(ta);
        ops.dispose(tb);
        ops.dispose(tc);
      }
    },
    async logprob(logits, targets, rows, vocab) {
      expectDims('logprob', { rows, vocab });
      if (!(logits instanceof Float32Array)) throw new ShapeError('logprob: logits must be a Float32Array');
      if (!(targets instanceof Int32Array)) throw new ShapeError('logprob: targets must be an Int32Array');
      expectLength('logprob', 'logits', logits, rows * vocab, `[rows=${rows}, vocab=${vocab}]`);
      expectLength('logprob', 'targets', targets, rows, `[rows=${rows}]`);
      for (let r = 0; r < rows; r++)
        if (!(targets[r] >= 0 && targets[r] < vocab))
          throw new ShapeError(`logprob: targets[${r}] = ${targets[r]} is outside [0, ${vocab})`);
      const tl = ops.tensor(logits, [rows, vocab]);
      const tt = ops.tensor(targets, [rows]);
      const { logp, lse } = ops.logprob(tl, tt);
      try {
        return await ops.readF32(logp);
      } finally {
        for (const t of [tl, tt, logp, lse]) ops.dispose(t);
      }
    },
  };
}
