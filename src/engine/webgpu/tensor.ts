import type { DType, Tensor } from '../types.ts';

export class GpuTensor implements Tensor {
  readonly backend = 'webgpu' as const;
  readonly size: number;
  disposed = false;
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
  }
  get bytes(): number {
    return this.size * 4;
  }
}

export function asGpu(t: Tensor): GpuTensor {
  if (!(t instanceof GpuTensor)) throw new Error(`webgpu: tensor ${JSON.stringify(t.shape)} belongs to the ${t.backend} backend`);
  if (t.disposed) throw new Error(`webgpu: tensor ${JSON.stringify(t.shape)} was already disposed`);
  return t;
}
