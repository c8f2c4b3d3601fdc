// Live kernel self-test: one line per kernel family (cases, passed, failed, time), each opening onto its cases,
// filled in as the worker reports. It runs when asked (it competes with training for the GPU).
import * as Comlink from 'comlink';
import type { EngineWorkerApi, SelfTestRow } from '../worker/protocol.ts';
import { h } from './dom.ts';

interface Family {
  kernel: string;
  indices: number[];
  head: HTMLElement;
  details: HTMLDetailsElement;
  rows: Map<number, HTMLTableRowElement>;
}

export class SelfTestPanel {
  readonly element: HTMLElement;
  private list = h('div', { class: 'families' });
  private summary = h('p', { class: 'summary', 'data-testid': 'selftest-summary' }, 'Waiting for the engine…');
  private button = h('button', { type: 'button', 'data-testid': 'selftest-run' }, 'Run the self-test');
  private progress = h('progress', { max: '1', value: '0', 'aria-label': 'self-test progress' });
  private families: Family[] = [];
  private rowsState: SelfTestRow[] = [];

  constructor(private readonly api: Comlink.Remote<EngineWorkerApi>) {
    this.button.disabled = true;
    this.button.addEventListener('click', () => void this.run());
    this.element = h('section', { class: 'selftest', 'data-testid': 'selftest' },
      h('div', { class: 'selftest-head' },
        h('p', { class: 'hint' },
          'Every WGSL kernel runs here, in this tab, on random and awkward shapes (size 1, odd sizes, 30k-wide rows, huge logits) ',
          'and is compared with the CPU reference backend. Open a kernel to see its cases.'),
        this.button),
      this.progress,
      this.summary,
      this.list);
  }

  async load(): Promise<void> {
    this.rowsState = await this.api.listSelfTests();
    const byKernel = new Map<string, number[]>();
    this.rowsState.forEach((r, i) => byKernel.set(r.kernel, [...(byKernel.get(r.kernel) ?? []), i]));
    this.families = [...byKernel].map(([kernel, indices]) => {
      const head = h('span', { class: 'fam-status' });
      const body = h('tbody');
      const rows = new Map<number, HTMLTableRowElement>();
      for (const i of indices) {
        const tr = h('tr');
        rows.set(i, tr);
        body.append(tr);
      }
      const details = h('details', { 'data-kernel': kernel },
        h('summary', {}, h('span', { class: 'fam-name' }, kernel), head),
        h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'case'), h('th', {}, 'result'), h('th', { class: 'num' }, 'ms'), h('th', {}, 'detail'))), body));
      return { kernel, indices, head, details, rows };
    });
    this.list.replaceChildren(...this.families.map((f) => f.details));
    this.progress.max = Math.max(1, this.rowsState.length);
    this.families.forEach((f) => this.refresh(f));
    this.summary.textContent = `Not run yet: ${this.rowsState.length} cases (about a minute on a software GPU).`;
    this.button.disabled = false;
  }

  private refresh(f: Family): void {
    const rows = f.indices.map((i) => this.rowsState[i]);
    const count = (s: SelfTestRow['status']) => rows.filter((r) => r.status === s).length;
    const ms = rows.reduce((a, r) => a + r.ms, 0);
    const [pass, fail, skipped] = [count('pass'), count('fail'), count('skipped')];
    const state = fail ? 'fail' : skipped === rows.length ? 'skipped' : pass === rows.length ? 'pass' : 'running';
    f.details.className = state;
    f.head.textContent = `${rows.length} cases · ${pass} passed · ${fail} failed${skipped ? ` · ${skipped} not run` : ''} · ${ms.toFixed(0)} ms`;
    if (fail) f.details.open = true;
    for (const i of f.indices) {
      const r = this.rowsState[i];
      const tr = f.rows.get(i);
      if (!tr) continue;
      tr.className = r.status;
      tr.replaceChildren(
        h('td', {}, r.name),
        h('td', { class: 'status' }, r.status),
        h('td', { class: 'num' }, r.ms ? r.ms.toFixed(1) : ''),
        h('td', { class: 'detail' }, r.detail),
      );
    }
  }

  async run(): Promise<void> {
    this.button.disabled = true;
    this.summary.textContent = 'Running…';
    this.summary.className = 'summary';
    let done = 0;
    this.progress.value = 0;
    const res = await this.api.runSelfTests(
      Comlink.proxy((i: number, row: SelfTestRow) => {
        this.rowsState[i] = row;
        const f = this.families.find((x) => x.indices.includes(i));
        if (f) this.refresh(f);
        if (row.status !== 'running') this.progress.value = ++done;
      }),
    );
    if (res.skipped === this.rowsState.length) {
      this.summary.textContent = `Not run: no WebGPU here (${res.skipped} cases need a GPU adapter)`;
      this.summary.className = 'summary skipped';
    } else {
      this.summary.textContent = `${res.passed} passed, ${res.failed} failed in ${(res.ms / 1000).toFixed(1)} s`;
      this.summary.className = `summary ${res.failed ? 'fail' : 'pass'}`;
    }
    this.button.textContent = 'Run again';
    this.button.disabled = false;
  }
}
