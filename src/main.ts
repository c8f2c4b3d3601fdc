import * as Comlink from 'comlink';
import { renderShell } from './ui/shell.ts';
import type { EngineWorkerApi } from './worker/protocol.ts';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
const worker = new Worker(new URL('./worker/engine.worker.ts', import.meta.url), { type: 'module' });
renderShell(root, Comlink.wrap<EngineWorkerApi>(worker), worker);
