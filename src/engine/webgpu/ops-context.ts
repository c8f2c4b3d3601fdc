// Finds the GpuContext behind a webgpu Ops object, for kernels that live outside the Ops interface (top-k of
// src/retrieval): they get an Ops and its tensors, and need the context to dispatch. Registered by backend.ts.
import type { Ops } from '../types.ts';
import type { GpuContext } from './context.ts';

const contexts = new WeakMap<Ops, GpuContext>();

export function registerGpuContext(ops: Ops, ctx: GpuContext): void {
  contexts.set(ops, ctx);
}

/** The context of a webgpu Ops, or undefined for any other Ops. */
export function gpuContextOf(ops: Ops): GpuContext | undefined {
  return contexts.get(ops);
}
