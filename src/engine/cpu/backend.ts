// The CPU reference backend: createCpuOps behind the common Backend facade.
import { EventHub, makeBackend } from '../backend-base.ts';
import type { Backend } from '../types.ts';
import { createCpuOps } from './ops.ts';

export function createCpuBackend(): Backend {
  return makeBackend(createCpuOps(), { kind: 'cpu', adapter: 'CPU reference (TypeScript)', fallbackReason: '' }, new EventHub(), () => {});
}
