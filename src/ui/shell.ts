// The playground shell: what this is, which backend runs it, and the live kernel self-test.
import * as Comlink from 'comlink';
import type { BackendInfo } from '../engine/types.ts';
import type { EngineWorkerApi } from '../worker/protocol.ts';
import { h } from './dom.ts';
import { SelfTestPanel } from './selftest-panel.ts';
import { worldCreditLine } from '../world/credits.ts';

function backendPanel(info: BackendInfo): HTMLElement {
  if (info.kind === 'webgpu')
    return h('section', { class: 'backend ok', 'data-testid': 'backend' },
      h('strong', {}, 'Backend: WebGPU'), ` on ${info.adapter}`);
  return h('section', { class: 'backend warn', 'data-testid': 'backend', role: 'alert' },
    h('strong', {}, 'Backend: CPU fallback. '),
    `WebGPU is not available here, so the playground runs on the CPU reference backend (slower, same results). Reason: ${info.fallbackReason}`);
}

export function renderShell(root: HTMLElement, api: Comlink.Remote<EngineWorkerApi>, worker: Worker): void {
  const backendSlot = h('section', { class: 'backend', 'data-testid': 'backend' }, 'Starting the engine…');
  const notices = h('div', { class: 'notices' });
  const panel = new SelfTestPanel(api);
  root.append(
    h('header', {},
      h('h1', {}, 'Search-R2 Playground'),
      h('p', { class: 'lede' },
        'Train a small search agent with reinforcement learning in this tab and watch how Search-R2 assigns credit: ',
        'an Actor writes a search-and-reasoning trajectory, a Meta-Refiner accepts it or cuts it at the first flawed ',
        'step and regenerates the rest, and a hybrid reward (exact match × (1 + share of useful searches)) drives GRPO. ',
        'This first page checks the engine the training will run on: our own WGSL kernels, compared live against the CPU reference.')),
    backendSlot,
    notices,
    panel.element,
    h('footer', {},
      h('p', {}, 'Method: He et al., "Search-R2: Enhancing Search-Integrated Reasoning via Actor-Refiner Collaboration" (arXiv:2602.03647). Baseline: Search-R1.'),
      h('p', { 'data-testid': 'world-credits' }, worldCreditLine())),
  );
  worker.addEventListener('message', (ev: MessageEvent) => {
    const d = ev.data as { type?: string; reason?: string; message?: string };
    if (d && d.type === 'device-lost')
      notices.append(h('p', { class: 'warn', role: 'alert' }, `The GPU device was lost (${d.reason}): ${d.message}. Reload to continue on the CPU backend.`));
  });
  api
    .init()
    .then(async (info) => {
      backendSlot.replaceWith(backendPanel(info));
      await panel.load();
      await panel.run();
    })
    .catch((e: unknown) => {
      backendSlot.replaceWith(h('section', { class: 'backend warn', role: 'alert' }, `The engine failed to start: ${String(e)}`));
    });
}
