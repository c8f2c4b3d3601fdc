// Ablations and runs: start the smoke or paper suite in the worker (progress bar, time left), the results table and
// a bar chart with 95% intervals beside the paper's numbers; every suite result kept in IndexedDB (list, reopen,
// delete, export JSON/CSV, import a results JSON for review), and the worker's saved training runs.
import type { SavedRunRef, SuiteProgress } from '../worker/train-protocol.ts';
import { download, h, num, s, withTip } from './dom.ts';
import { fmt, fmtDuration, fmtPct } from './format.ts';
import { deleteResult, listResults, putResult, type StoredResult } from './runs-store.ts';
import { normalizeSuiteResults, PAPER, tableToCsv, type SuiteTable } from './suite-results.ts';

export interface RunsApi {
  runSuite(suite: 'smoke' | 'paper', opts: { seeds?: number; steps?: number }, onProgress: (p: SuiteProgress) => void): Promise<unknown>;
  listRuns(): Promise<SavedRunRef[]>;
  deleteRun(id: string): Promise<void>;
  loadRun(id: string): Promise<void>;
  /** Saves the live training run (weights, optimizer, RNG streams, step) in the worker's store. */
  saveRun(name: string): Promise<SavedRunRef>;
}

const APP = 'search-r2-playground@0.1.0';


function barChart(t: SuiteTable): SVGSVGElement {
  const rowH = 34;
  const W = 560;
  const left = 210;
  const right = 60;
  const H = t.rows.length * rowH + 30;
  const vals = t.rows.flatMap((r) => [r.avg !== null ? r.avg * 100 : 0, r.ci95 ? r.ci95[1] * 100 : 0, PAPER[r.preset]?.value ?? 0]);
  const max = Math.max(10, Math.ceil(Math.max(...vals) / 10) * 10);
  const x = (v: number): number => left + ((W - left - right) * Math.max(0, v)) / max;
  const svg = s('svg', { class: 'suite-chart', width: W, height: H, role: 'img', 'aria-label': 'average EM per preset, ours with 95% intervals beside the paper', 'data-testid': 'suite-chart' });
  for (let v = 0; v <= max; v += max / 5) {
    svg.append(s('line', { x1: x(v), x2: x(v), y1: 4, y2: H - 22, class: 'grid' }), s('text', { x: x(v), y: H - 6, 'text-anchor': 'middle', class: 'axis' }, `${v.toFixed(0)}`));
  }
  t.rows.forEach((r, i) => {
    const y = 6 + i * rowH;
    svg.append(s('text', { x: left - 8, y: y + 14, 'text-anchor': 'end', class: 'label' }, r.preset));
    if (r.avg !== null) {
      const ours = s('rect', { x: left, y, width: Math.max(1, x(r.avg * 100) - left), height: 12, class: 'ours', tabindex: 0 });
      withTip(ours, `${r.preset}: ours ${fmt(r.avg * 100, 1)} average EM over ${r.seeds} seed${r.seeds === 1 ? '' : 's'}${r.ci95 ? `, 95% interval ${fmt(r.ci95[0] * 100, 1)}..${fmt(r.ci95[1] * 100, 1)}` : ' (one seed: no interval)'}`, false);
      svg.append(ours);
      if (r.ci95) {
        const [lo, hi] = [x(r.ci95[0] * 100), x(r.ci95[1] * 100)];
        svg.append(s('line', { x1: lo, x2: hi, y1: y + 6, y2: y + 6, class: 'ci' }), s('line', { x1: lo, x2: lo, y1: y + 2, y2: y + 10, class: 'ci' }), s('line', { x1: hi, x2: hi, y1: y + 2, y2: y + 10, class: 'ci' }));
      }
      svg.append(s('text', { x: x(r.avg * 100) + 6, y: y + 11, class: 'val' }, fmt(r.avg * 100, 1)));
    }
    const p = PAPER[r.preset];
    if (p) {
      const bar = s('rect', { x: left, y: y + 14, width: x(p.value) - left, height: 10, class: 'paper', tabindex: 0 });
      withTip(bar, `${r.preset}: the paper reports ${p.value} average EM with ${p.model} (DESIGN 8)`, false);
      svg.append(bar, s('text', { x: x(p.value) + 6, y: y + 23, class: 'val paper-val' }, `${p.value} paper`));
    }
  });
  return svg;
}

function table(t: SuiteTable): HTMLTableElement {
  const head = h('tr', {}, h('th', { scope: 'col' }, 'preset'), h('th', { scope: 'col', class: 'num' }, 'seeds'), h('th', { scope: 'col', class: 'num' }, 'avg EM'), h('th', { scope: 'col', class: 'num' }, '95% interval'),
    ...t.splits.map((sp) => h('th', { scope: 'col', class: 'num' }, sp)),
    h('th', { scope: 'col', class: 'num' }, 'general'), h('th', { scope: 'col', class: 'num' }, 'multi-hop'),
    h('th', { scope: 'col', class: 'num' }, 'traj./step'), h('th', { scope: 'col', class: 'num' }, 's/step'), h('th', { scope: 'col', class: 'num' }, 'refine rate'), h('th', { scope: 'col', class: 'num' }, 'paper'));
  const body = h('tbody');
  for (const r of t.rows) {
    const p = PAPER[r.preset];
    body.append(h('tr', { 'data-preset': r.preset },
      h('th', { scope: 'row' }, r.preset),
      h('td', { class: 'num' }, String(r.seeds)),
      h('td', { class: 'num' }, num(r.avg === null ? '—' : fmt(r.avg * 100, 1), `${r.preset}: mean over splits of test EM (×100), averaged over ${r.seeds} seed(s)`)),
      h('td', { class: 'num' }, r.ci95 ? `${fmt(r.ci95[0] * 100, 1)}–${fmt(r.ci95[1] * 100, 1)}` : withTip(h('span', {}, '—'), 'one seed: no interval (run more seeds for a 95% interval)')),
      ...t.splits.map((sp) => h('td', { class: 'num' }, r.perSplit[sp] === undefined ? '—' : fmt(r.perSplit[sp] * 100, 1))),
      h('td', { class: 'num' }, r.general === null ? '—' : fmt(r.general * 100, 1)),
      h('td', { class: 'num' }, r.multihop === null ? '—' : fmt(r.multihop * 100, 1)),
      h('td', { class: 'num' }, fmt(r.trajectoriesPerStep, 1)),
      h('td', { class: 'num' }, fmt(r.secondsPerStep, 1)),
      h('td', { class: 'num' }, fmtPct(r.refineRate)),
      h('td', { class: 'num' }, p ? withTip(h('span', {}, `${p.value}`), `the paper's average EM with ${p.model}`) : '—')));
  }
  return h('table', { class: 'suite-table', 'data-testid': 'suite-table' }, h('caption', {}, `Average EM ×100 on the test splits (${t.suite} suite). The paper's numbers come from 7B–32B models on 2018 Wikipedia; compare shapes, not values.`), h('thead', {}, head), body);
}

export class RunsView {
  readonly element: HTMLElement;
  private suiteSel = h('select', { id: 'suite-select' });
  private seedsIn = h('input', { id: 'suite-seeds', type: 'number', min: '1', max: '10', placeholder: 'default', inputmode: 'numeric' });
  private stepsIn = h('input', { id: 'suite-steps', type: 'number', min: '1', max: '1000', placeholder: 'default', inputmode: 'numeric' });
  private startBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'suite-start' }, 'Run suite');
  private progress = h('progress', { max: '1', value: '0', 'aria-label': 'suite progress', 'data-testid': 'suite-progress' });
  private status = h('p', { class: 'hint', 'data-testid': 'suite-status', 'aria-live': 'polite' }, '');
  private result = h('div', { class: 'suite-result', 'data-testid': 'suite-result' });
  private list = h('ul', { class: 'run-list', 'data-testid': 'run-list' });
  private savedList = h('ul', { class: 'run-list', 'data-testid': 'saved-runs' });
  private importIn = h('input', { type: 'file', accept: '.json,application/json', id: 'import-json' });
  private saveName = h('input', { id: 'save-name', type: 'text', placeholder: 'my run', size: '16' });
  private saveBtn = h('button', { type: 'button', 'data-testid': 'save-run' }, 'Save the live run');
  private api: RunsApi | null = null;
  private running = false;

  constructor() {
    this.suiteSel.append(h('option', { value: 'smoke' }, 'smoke (2 presets, 1 seed, 2 steps, tiny policy: quick)'), h('option', { value: 'paper' }, 'paper (8 presets × 3 seeds × 100 steps: hours)'));
    this.startBtn.disabled = true;
    this.startBtn.addEventListener('click', () => void this.start());
    this.progress.hidden = true;
    this.importIn.addEventListener('change', () => void this.importFile());
    this.element = h('div', {},
      h('p', { class: 'hint' }, 'Runs the paper\'s ablation rows (Search-R1, +Meta-Refiner, +process reward, full Search-R2, doubled rollouts, revision limits) in the training worker, then evaluates each on the test splits.'),
      h('div', { class: 'suite-form' },
        h('label', { for: 'suite-select' }, 'Suite ', this.suiteSel),
        h('label', { for: 'suite-seeds' }, 'Seeds ', this.seedsIn),
        h('label', { for: 'suite-steps' }, 'Steps ', this.stepsIn),
        this.startBtn),
      this.progress, this.status, this.result,
      h('h3', {}, 'Stored results'),
      h('p', { class: 'hint' }, 'Kept in this browser (IndexedDB). Open, export as JSON or CSV, or delete; import a results.json (from this page or `npm run cli -- ablate`) to review it.'),
      h('label', { for: 'import-json', class: 'import' }, 'Import results JSON: ', this.importIn),
      this.list,
      h('h3', {}, 'Saved training runs'),
      h('div', { class: 'suite-form' }, h('label', { for: 'save-name' }, 'Name ', this.saveName), this.saveBtn),
      this.savedList);
    this.saveBtn.disabled = true;
    this.saveBtn.addEventListener('click', () => void this.save());
    void this.refresh();
  }

  setApi(api: RunsApi | null, why = ''): void {
    this.api = api;
    this.startBtn.disabled = !api || this.running;
    this.saveBtn.disabled = !api || this.running;
    if (!api && why) this.status.textContent = why;
    else if (api && !this.running) this.status.textContent = 'Ready.';
    void this.refresh();
  }

  private async start(): Promise<void> {
    if (!this.api || this.running) return;
    const suite = this.suiteSel.value === 'paper' ? 'paper' : 'smoke';
    const opts: { seeds?: number; steps?: number } = {};
    const seeds = Number(this.seedsIn.value);
    const steps = Number(this.stepsIn.value);
    if (this.seedsIn.value && Number.isInteger(seeds) && seeds > 0) opts.seeds = seeds;
    if (this.stepsIn.value && Number.isInteger(steps) && steps > 0) opts.steps = steps;
    this.running = true;
    this.startBtn.disabled = true;
    this.progress.hidden = false;
    this.progress.value = 0;
    this.status.textContent = `Starting the ${suite} suite…`;
    const t0 = performance.now();
    try {
      const results = await this.api.runSuite(suite, opts, (p) => {
        this.progress.max = Math.max(1, p.total);
        this.progress.value = p.done;
        const eta = p.etaSeconds === null ? 'estimating time left…' : `about ${fmtDuration(p.etaSeconds)} left`;
        this.status.textContent = `${p.done} of ${p.total} runs done · now ${p.preset}, seed ${p.seed} · ${eta}`;
      });
      const rec: StoredResult = { id: `suite-${suite}-${new Date().toISOString()}`, kind: 'suite', name: `${suite} suite`, savedAt: new Date().toISOString(), results, app: APP };
      await putResult(rec);
      this.progress.value = this.progress.max;
      this.status.textContent = `The ${suite} suite finished in ${fmtDuration((performance.now() - t0) / 1000)}; stored below.`;
      this.show(rec);
    } catch (e) {
      this.status.textContent = `The suite stopped: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.running = false;
      this.startBtn.disabled = !this.api;
      this.saveBtn.disabled = !this.api;
      void this.refresh();
    }
  }

  show(rec: StoredResult): void {
    const t = normalizeSuiteResults(rec.results);
    if (!t.rows.length) {
      this.result.replaceChildren(h('p', { class: 'warn' }, `"${rec.name}" has no result rows this page can read (expected one row per preset with its EM).`));
      return;
    }
    this.result.replaceChildren(h('h3', {}, `${rec.name}`, h('span', { class: 'hint' }, ` · ${rec.kind === 'imported' ? 'imported for review' : 'run in this tab'} · ${new Date(rec.savedAt).toLocaleString()}`)), table(t), barChart(t),
      h('p', { class: 'hint' }, 'Blue: ours (average EM ×100, whiskers: 95% interval over seeds). Grey: the paper.'));
  }

  async refresh(): Promise<void> {
    let results: StoredResult[] = [];
    try {
      results = await listResults();
    } catch (e) {
      this.list.replaceChildren(h('li', { class: 'warn' }, `IndexedDB is not available: ${String(e)}`));
      return;
    }
    this.list.replaceChildren(...(results.length ? results.map((r) => this.item(r)) : [h('li', { class: 'hint' }, 'No stored results yet.')]));
    if (!this.api) {
      this.savedList.replaceChildren(h('li', { class: 'hint' }, 'Saved training runs are listed once the training worker is ready.'));
      return;
    }
    try {
      const saved = await this.api.listRuns();
      this.savedList.replaceChildren(...(saved.length ? saved.map((r) => this.savedItem(r)) : [h('li', { class: 'hint' }, 'No saved training runs.')]));
    } catch (e) {
      this.savedList.replaceChildren(h('li', { class: 'warn' }, `Could not list saved runs: ${String(e)}`));
    }
  }

  private item(r: StoredResult): HTMLElement {
    const open = h('button', { type: 'button', 'aria-label': `open ${r.name} from ${r.savedAt}`, 'data-testid': 'run-open' }, 'Open');
    const json = h('button', { type: 'button', 'aria-label': `export ${r.name} as JSON` }, 'JSON');
    const csv = h('button', { type: 'button', 'aria-label': `export ${r.name} as CSV` }, 'CSV');
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': `delete ${r.name}`, 'data-testid': 'run-delete' }, 'Delete');
    const base = r.name.replace(/[^\w.-]+/g, '-');
    open.addEventListener('click', () => this.show(r));
    json.addEventListener('click', () => download(`${base}.json`, JSON.stringify({ name: r.name, savedAt: r.savedAt, app: r.app, config: r.config ?? null, results: r.results }, null, 2), 'application/json'));
    csv.addEventListener('click', () => download(`${base}.csv`, tableToCsv(normalizeSuiteResults(r.results)), 'text/csv'));
    del.addEventListener('click', () => void deleteResult(r.id).then(() => this.refresh()));
    const rows = normalizeSuiteResults(r.results).rows.length;
    return h('li', { 'data-testid': 'run-item', 'data-kind': r.kind },
      h('span', { class: 'run-name' }, r.name), h('span', { class: 'hint' }, ` ${r.kind === 'imported' ? 'imported' : 'suite'} · ${rows} rows · ${new Date(r.savedAt).toLocaleString()}`),
      h('span', { class: 'run-actions' }, open, json, csv, del));
  }

  private savedItem(r: SavedRunRef): HTMLElement {
    const load = h('button', { type: 'button', 'aria-label': `reopen saved run ${r.name}` }, 'Reopen');
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': `delete saved run ${r.name}` }, 'Delete');
    load.addEventListener('click', () => void this.api?.loadRun(r.id));
    del.addEventListener('click', () => void this.api?.deleteRun(r.id).then(() => this.refresh()));
    return h('li', {}, h('span', { class: 'run-name' }, r.name), h('span', { class: 'hint' }, ` ${r.config.preset} · step ${r.step} · ${new Date(r.savedAt).toLocaleString()}`), h('span', { class: 'run-actions' }, load, del));
  }

  private async save(): Promise<void> {
    if (!this.api) return;
    try {
      const ref = await this.api.saveRun(this.saveName.value.trim() || `run ${new Date().toLocaleString()}`);
      this.status.textContent = `Saved "${ref.name}" at step ${ref.step}.`;
    } catch (e) {
      this.status.textContent = `Could not save: ${e instanceof Error ? e.message : String(e)}`;
    }
    void this.refresh();
  }

  private async importFile(): Promise<void> {
    const f = this.importIn.files?.[0];
    if (!f) return;
    try {
      const parsed: unknown = JSON.parse(await f.text());
      // An exported file wraps the results; a results.json from the CLI is the results itself.
      const inner = typeof parsed === 'object' && parsed !== null && 'results' in parsed && !Array.isArray((parsed as { results: unknown }).results) ? (parsed as { results: unknown }).results : parsed;
      const results = normalizeSuiteResults(inner).rows.length ? inner : parsed;
      if (!normalizeSuiteResults(results).rows.length) throw new Error('no result rows found (expected one row per preset with its EM)');
      const rec: StoredResult = { id: `import-${f.name}-${Date.now()}`, kind: 'imported', name: f.name, savedAt: new Date().toISOString(), results, app: APP };
      await putResult(rec);
      this.status.textContent = `Imported ${f.name}.`;
      this.show(rec);
    } catch (e) {
      this.status.textContent = `Could not import ${f.name}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.importIn.value = '';
      void this.refresh();
    }
  }
}
