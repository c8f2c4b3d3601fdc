// Tape-based reverse-mode autograd over Ops. Every op records a closure that maps the output gradient to
// input gradients; backward() replays them in reverse. Works unchanged on every backend: it only calls Ops.
import { ShapeError } from './errors.ts';
import type { AttentionSpec, MatmulOptions, Ops, Tensor } from './types.ts';

export class Var {
  grad: Tensor | null = null;
  constructor(
    public value: Tensor,
    readonly requiresGrad: boolean,
    readonly name = '',
  ) {}
  get shape(): readonly number[] {
    return this.value.shape;
  }
}

interface Node {
  inputs: Var[];
  output: Var;
  /** Given dL/d(output), returns dL/d(input) for each input (null where it needs none). */
  backward(g: Tensor): (Tensor | null)[];
  /** Tensors saved for the backward pass, freed with the tape. */
  saved: Tensor[];
}

export class Tape {
  private nodes: Node[] = [];
  private owned = new Set<Tensor>();

  constructor(readonly ops: Ops) {}

  /** A trainable leaf; its value is owned by the caller. */
  param(value: Tensor, name = ''): Var {
    return new Var(value, true, name);
  }

  /** A constant leaf; its value is owned by the caller. */
  input(value: Tensor, name = ''): Var {
    return new Var(value, false, name);
  }

  /** Hands tensors to the tape, to be freed by dispose(). */
  adopt(...ts: Tensor[]): void {
    for (const t of ts) this.owned.add(t);
  }

  private record(inputs: Var[], value: Tensor, backward: Node['backward'], saved: Tensor[] = []): Var {
    const out = new Var(value, inputs.some((v) => v.requiresGrad));
    this.owned.add(value);
    for (const s of saved) this.owned.add(s);
    if (out.requiresGrad) this.nodes.push({ inputs, output: out, backward, saved });
    return out;
  }

  matmul(a: Var, b: Var, opts: MatmulOptions = {}): Var {
    const o = this.ops;
    const ta = !!opts.transA;
    const tb = !!opts.transB;
    return this.record([a, b], o.matmul(a.value, b.value, opts), (g) => [
      a.requiresGrad
        ? ta
          ? o.matmul(b.value, g, { transA: tb, transB: true })
          : o.matmul(g, b.value, { transB: !tb })
        : null,
      b.requiresGrad
        ? tb
          ? o.matmul(g, a.value, { transA: true, transB: ta })
          : o.matmul(a.value, g, { transA: !ta })
        : null,
    ]);
  }

  add(a: Var, b: Var): Var {
    return this.record([a, b], this.ops.add(a.value, b.value), (g) => [g, g]);
  }

  /** x * s (e.g. logits / temperature for a contrastive loss); backward: g * s. */
  scale(x: Var, s: number): Var {
    return this.record([x], this.ops.scale(x.value, s), (g) => [this.ops.scale(g, s)]);
  }

  addBias(x: Var, bias: Var): Var {
    return this.record([x, bias], this.ops.addBias(x.value, bias.value), (g) => [
      g,
      bias.requiresGrad ? this.ops.sumRows(g) : null,
    ]);
  }

  gelu(x: Var): Var {
    return this.record([x], this.ops.gelu(x.value), (g) => [this.ops.geluBackward(g, x.value)]);
  }

  layernorm(x: Var, gamma: Var, beta: Var, eps = 1e-5): Var {
    const { y, mean, rstd } = this.ops.layernorm(x.value, gamma.value, beta.value, eps);
    return this.record(
      [x, gamma, beta],
      y,
      (g) => {
        const { dx, dgamma, dbeta } = this.ops.layernormBackward(g, x.value, gamma.value, mean, rstd);
        return [dx, dgamma, dbeta];
      },
      [mean, rstd],
    );
  }

  /**
   * Row-wise L2 normalization of x [M,N]: y = x / max(||x_r||, eps). The backward reads this op's output y, so y
   * must not be overwritten in place (do not pass it to nll directly; scale or matmul it first).
   */
  l2normalize(x: Var, eps = 1e-12): Var {
    const { y, norm } = this.ops.l2normalize(x.value, eps);
    return this.record([x], y, (g) => [this.ops.l2normalizeBackward(g, y, norm, eps)], [norm]);
  }

  /** table [V,D] gathered at ids; `idsHost` must hold the same ids (the backward scatter is planned on the host). */
  embedding(table: Var, ids: Tensor, idsHost: Int32Array): Var {
    if (ids.size !== idsHost.length) throw new ShapeError(`embedding: ids tensor has ${ids.size} ids, host copy ${idsHost.length}`);
    const vocab = table.shape[0];
    return this.record([table], this.ops.embedding(table.value, ids), (g) => [
      this.ops.embeddingBackward(g, idsHost, vocab),
    ]);
  }

  /**
   * Multi-head attention (causal by default; `causal: false` and `keyLengths` for padded bidirectional encoders,
   * see AttentionSpec). The spec, keyLengths included, is reused by the backward pass: do not mutate it meanwhile.
   */
  attention(q: Var, k: Var, v: Var, spec: AttentionSpec): Var {
    const { out, lse } = this.ops.attention(q.value, k.value, v.value, spec);
    return this.record(
      [q, k, v],
      out,
      (g) => {
        const { dq, dk, dv } = this.ops.attentionBackward(g, q.value, k.value, v.value, out, lse, spec);
        return [dq, dk, dv];
      },
      [lse],
    );
  }

  /**
   * Scalar loss -sum_r weights[r] * log softmax(logits[r])[targets[r]] (weights carry the token mask and the
   * 1/count of a token mean). Its backward overwrites `logits` in place with dL/dlogits.
   */
  nll(logits: Var, targets: Tensor, weights: Tensor): Var {
    const o = this.ops;
    const { logp, lse } = o.logprob(logits.value, targets);
    const wl = o.mul(logp, weights);
    const total = o.sum(wl);
    const loss = o.scale(total, -1);
    o.dispose(wl);
    o.dispose(total);
    return this.record(
      [logits],
      loss,
      () => {
        // The seed gradient of the root is 1, so dL/dlogits = (p - onehot) * weights, written in place.
        return [o.logprobBackward(logits.value, targets, lse, weights)];
      },
      [logp, lse],
    );
  }

  /**
   * Reverse pass from a scalar root produced by nll(), which must be the last recorded op (a contrastive loss is
   * nll over scale(matmul(q, p, { transB: true }), 1 / tau) with targets 0..B-1). Leaves a fresh gradient (owned by the caller) on every
   * param reached; intermediate gradients belong to the tape and are freed by dispose().
   */
  backward(root: Var): void {
    if (root.value.size !== 1) throw new ShapeError(`backward: the root must be a scalar, got [${root.shape.join(', ')}]`);
    const rootNode = this.nodes[this.nodes.length - 1];
    if (!rootNode || rootNode.output !== root) throw new Error('backward: the root must be the last recorded op (an nll loss)');
    const grads = new Map<Var, Tensor>([[root, root.value]]);
    const produced = new Set(this.nodes.map((n) => n.output));
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const g = grads.get(node.output);
      if (!g) continue;
      node.backward(g).forEach((gi, j) => {
        const inp = node.inputs[j];
        if (!gi) return;
        this.owned.add(gi);
        if (!inp.requiresGrad) return;
        const prev = grads.get(inp);
        const acc = prev ? this.ops.add(prev, gi) : gi;
        this.owned.add(acc);
        grads.set(inp, acc);
      });
    }
    for (const [v, g] of grads) if (!produced.has(v)) v.grad = this.ops.scale(g, 1);
  }

  /** Frees every tensor the tape created (activations, saved tensors, intermediate gradients). */
  dispose(): void {
    for (const t of this.owned) this.ops.dispose(t);
    this.owned.clear();
    this.nodes = [];
  }
}
