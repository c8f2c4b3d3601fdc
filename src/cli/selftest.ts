import { CONFORMANCE_CASES } from '../engine/conformance/index.ts';
import { createBackend } from '../engine/create.ts';
import { Rng } from '../engine/rng.ts';
import { option } from './args.ts';

export async function selftest(args: string[]): Promise<number> {
  const only = option(args, 'kernel');
  const cpu = await createBackend('cpu', { reference: true }); // the TypeScript reference is the oracle
  const gpu = await createBackend('webgpu');
  console.error(`adapter: ${gpu.info.adapter}`);
  let passed = 0;
  let failed = 0;
  const t0 = performance.now();
  for (let i = 0; i < CONFORMANCE_CASES.length; i++) {
    const c = CONFORMANCE_CASES[i];
    if (only && c.kernel !== only) continue;
    const s = performance.now();
    const r = await c.run(cpu.ops, gpu.ops, new Rng(1000 + i));
    console.error(`${r.pass ? 'pass' : 'FAIL'}  ${c.kernel} / ${c.name}  ${(performance.now() - s).toFixed(0)} ms  ${r.detail}`);
    if (r.pass) passed++;
    else failed++;
  }
  gpu.dispose();
  console.log(JSON.stringify({ adapter: gpu.info.adapter, passed, failed, seconds: (performance.now() - t0) / 1000 }));
  return failed ? 1 : 0;
}
