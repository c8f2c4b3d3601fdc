// The backend in use, always visible in the header: the WebGPU adapter, or the CPU fallback and why.
import type { BackendInfo } from '../engine/types.ts';
import { h } from './dom.ts';

export function backendBadge(info: BackendInfo | null, note = ''): HTMLElement {
  if (!info) return h('div', { class: 'backend', 'data-testid': 'backend' }, 'Backend: starting…');
  if (info.kind === 'webgpu') {
    // A software adapter (SwiftShader, WARP, lavapipe) is WebGPU without a GPU: usually slower than our CPU backend.
    const software = /fallback|swiftshader|warp|lavapipe|llvmpipe/i.test(info.adapter);
    return h('div', { class: `backend ${software ? 'soft' : 'ok'}`, 'data-testid': 'backend', title: info.adapter },
      h('strong', {}, 'Backend: WebGPU'), ` on ${info.adapter}`, note ? h('span', { class: 'hint' }, ` · ${note}`) : '',
      software ? h('span', { class: 'hint', 'data-testid': 'software-adapter' }, ' · a software GPU: Settings → Backend → CPU is usually faster here') : '');
  }
  if (!info.fallbackReason)
    return h('div', { class: 'backend', 'data-testid': 'backend' }, h('strong', {}, 'Backend: CPU'), ` (${info.adapter}, chosen in the settings)`, note ? h('span', { class: 'hint' }, ` · ${note}`) : '');
  return h('div', { class: 'backend warn', 'data-testid': 'backend', role: 'status' },
    h('strong', {}, 'Backend: CPU fallback. '), `Training runs on the CPU backend (slower, same results). Reason: ${info.fallbackReason}`);
}
