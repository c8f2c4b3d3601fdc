// The engine worker's typed surface (exposed with comlink). The UI only renders what comes back.
import type { BackendInfo } from '../engine/types.ts';

export interface SelfTestRow {
  kernel: string;
  name: string;
  status: 'pending' | 'running' | 'pass' | 'fail' | 'skipped';
  ms: number;
  detail: string;
}

export interface EngineWorkerApi {
  /** Starts the best backend (WebGPU, else CPU with the reason) and describes it. */
  init(): Promise<BackendInfo>;
  /** The list of conformance cases, all pending. */
  listSelfTests(): Promise<SelfTestRow[]>;
  /** Runs every case; `onRow` receives each row as it starts and as it ends. */
  runSelfTests(onRow: (index: number, row: SelfTestRow) => void): Promise<{ passed: number; failed: number; skipped: number; ms: number }>;
}
