// AdamW over tape params: moment buffers live on the backend next to the weights.
import type { Ops, Tensor } from './types.ts';
import type { Var } from './tape.ts';

export interface AdamWConfig {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  private m = new Map<Var, Tensor>();
  private v = new Map<Var, Tensor>();
  step = 0;

  constructor(
    private readonly ops: Ops,
    private readonly params: readonly Var[],
    readonly config: AdamWConfig,
  ) {}

  /** One update from the params' current gradients; gradients are consumed (disposed and cleared). */
  update(): void {
    this.step++;
    const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = this.config;
    for (const p of this.params) {
      if (!p.grad) continue;
      let m = this.m.get(p);
      let v = this.v.get(p);
      if (!m || !v) {
        m = this.ops.zeros(p.shape);
        v = this.ops.zeros(p.shape);
        this.m.set(p, m);
        this.v.set(p, v);
      }
      this.ops.adamw(p.value, p.grad, m, v, { lr, beta1, beta2, eps, weightDecay, step: this.step });
      this.ops.dispose(p.grad);
      p.grad = null;
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) this.ops.dispose(t);
    this.m.clear();
    this.v.clear();
  }
}
