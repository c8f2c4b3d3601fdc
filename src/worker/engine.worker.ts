// The worker that owns the GPU device. It runs the kernel self-test for the first page.
import * as Comlink from 'comlink';
import { CONFORMANCE_CASES } from '../engine/conformance/index.ts';
import { createBestBackend, createBackend } from '../engine/create.ts';
import { Rng } from '../engine/rng.ts';
import type { Backend } from '../engine/types.ts';
import type { EngineWorkerApi, SelfTestRow } from './protocol.ts';

let backend: Backend | null = null;
let reference: Backend | null = null;

const rowOf = (i: number): SelfTestRow => ({
  kernel: CONFORMANCE_CASES[i].kernel,
  name: CONFORMANCE_CASES[i].name,
  status: 'pending',
  ms: 0,
  detail: '',
});

const api: EngineWorkerApi = {
  async init() {
    backend ??= await createBestBackend();
    reference ??= await createBackend('cpu', { reference: true }); // the TypeScript oracle of the self-test
    backend.on((e) => {
      if (e.type === 'lost') postMessage({ type: 'device-lost', reason: e.reason, message: e.message });
    });
    return backend.info;
  },
  async listSelfTests() {
    return CONFORMANCE_CASES.map((_, i) => rowOf(i));
  },
  async runSelfTests(onRow) {
    if (!backend || !reference) await api.init();
    const gpu = backend as Backend;
    const cpu = reference as Backend;
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const t0 = performance.now();
    for (let i = 0; i < CONFORMANCE_CASES.length; i++) {
      const row = rowOf(i);
      if (gpu.kind !== 'webgpu') {
        onRow(i, { ...row, status: 'skipped', detail: `not run: no WebGPU (${gpu.info.fallbackReason})` });
        skipped++;
        continue;
      }
      onRow(i, { ...row, status: 'running' });
      const s = performance.now();
      try {
        const r = await CONFORMANCE_CASES[i].run(cpu.ops, gpu.ops, new Rng(1000 + i));
        onRow(i, { ...row, status: r.pass ? 'pass' : 'fail', ms: performance.now() - s, detail: r.detail });
        if (r.pass) passed++;
        else failed++;
      } catch (e) {
        failed++;
        onRow(i, { ...row, status: 'fail', ms: performance.now() - s, detail: e instanceof Error ? e.message : String(e) });
      }
    }
    return { passed, failed, skipped, ms: performance.now() - t0 };
  },
};

Comlink.expose(api);
