// Starts the training worker (src/worker/train.worker.ts, implementing TrainerWorkerApi) when the build has one.
// import.meta.glob keeps the page building and working (with the example step only) in a tree without it.
import * as Comlink from 'comlink';
import type { TrainerWorkerApi } from '../worker/train-protocol.ts';

const workers = import.meta.glob<new () => Worker>('../worker/train.worker.ts', { query: '?worker', import: 'default' });

export interface TrainerClient {
  worker: Worker;
  api: Comlink.Remote<TrainerWorkerApi>;
}

export function hasTrainer(): boolean {
  return Object.keys(workers).length > 0;
}

export async function startTrainer(): Promise<TrainerClient | null> {
  const load = Object.values(workers)[0];
  if (!load) return null;
  const Ctor = await load();
  const worker = new Ctor();
  return { worker, api: Comlink.wrap<TrainerWorkerApi>(worker) };
}
