import * as Comlink from 'comlink';
import { App } from './ui/app.ts';
import type { EngineWorkerApi } from './worker/protocol.ts';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
const worker = new Worker(new URL('./worker/engine.worker.ts', import.meta.url), { type: 'module' });
new App(root, Comlink.wrap<EngineWorkerApi>(worker), worker);

// Offline after the first visit: the service worker caches the app shell and everything under public/ it serves.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((e: unknown) => console.warn('service worker not registered:', e));
  });
}
