// Live kernel self-test: one row per conformance case, filled in as the worker reports.
import * as Comlink from 'comlink';
import type { EngineWorkerApi, SelfTestRow } from '../worker/protocol.ts';
import { h } from './dom.ts';

export class SelfTestPanel {
  readonly element: HTMLElement;
  private body = h('tbody');
  private summary = h('p', { class: 'summary', 'data-testid': 'selftest-summary' }, 'Waiting for the engine…');
  private button = h('button', { type: 'button', 'data-testid': 'selftest-run' }, 'Run again');
  private progress = h('progress', { max: '1', value: '0' });
  private rows: HTMLTableRowElement[] = [];

  constructor(private readonly api: Comlink.Remote<EngineWorkerApi>) {
    this.button.disabled = true;
    this.button.addEventListener('click', () => void this.run());
    this.element = h('section', { class: 'selftest', 'data-testid': 'selftest' },
      h('div', { class: 'selftest-head' }, h('h2', {}, 'Kernel self-test'), this.button),
      h('p', { class: 'hint' }, 'Every WGSL kernel runs on random and awkward shapes and is compared with the CPU reference backend.'),
      this.progress,
      this.summary,
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'kernel'), h('th', {}, 'case'), h('th', {}, 'result'), h('th', { class: 'num' }, 'ms'), h('th', {}, 'detail'))), this.body));
  }

  async load(): Promise<void> {
    const list = await this.api.listSelfTests();
    this.body.replaceChildren();
    this.rows = list.map((r) => {
      const tr = h('tr');
      this.fill(tr, r);
      this.body.append(tr);
      return tr;
    });
    this.progress.max = Math.max(1, list.length);
  }

  private fill(tr: HTMLTableRowElement, r: SelfTestRow): void {
    tr.className = r.status;
    tr.replaceChildren(
      h('td', {}, r.kernel),
      h('td', {}, r.name),
      h('td', { class: 'status' }, r.status),
      h('td', { class: 'num' }, r.ms ? r.ms.toFixed(1) : ''),
      h('td', { class: 'detail' }, r.detail),
    );
  }

  async run(): Promise<void> {
    this.button.disabled = true;
    this.summary.textContent = 'Running…';
    let done = 0;
    const res = await this.api.runSelfTests(
      Comlink.proxy((i: number, row: SelfTestRow) => {
        const tr = this.rows[i];
        if (tr) this.fill(tr, row);
        if (row.status !== 'running') this.progress.value = ++done;
        if (row.status === 'running') tr?.scrollIntoView?.({ block: 'nearest' });
      }),
    );
    this.summary.textContent =
      `${res.passed} passed, ${res.failed} failed` + (res.skipped ? `, ${res.skipped} not run (no WebGPU)` : '') + ` in ${(res.ms / 1000).toFixed(1)} s`;
    this.summary.className = `summary ${res.failed ? 'fail' : 'pass'}`;
    this.button.disabled = false;
  }
}
