// Probe for tests/browser/wasm-cpu.test.ts: the fast cpu backend inside a module Worker (where the engine runs).
import { createBackend } from '../../src/engine/create.ts';

self.onmessage = async () => {
  try {
    const be = await createBackend('cpu');
    const c = await be.matmul(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), 2, 2, 2);
    const g = globalThis as { crossOriginIsolated?: boolean };
    self.postMessage({ adapter: be.info.adapter, c: Array.from(c), isolated: g.crossOriginIsolated === true });
    be.dispose();
  } catch (e) {
    self.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
};
