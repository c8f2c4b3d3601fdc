// Charts of the run's StepMetrics with uPlot: one small chart per spec in charts-model.ts, updated as steps come in.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StepMetrics } from '../rl/events.ts';
import { alignedData, chartSpecs, type ChartSpec } from './charts-model.ts';
import { download, h } from './dom.ts';

const CSV_KEYS = ['step', 'preset', 'em', 'reward', 'f1', 'refineRate', 'selectionCov', 'selectionPrecision', 'selectionRecall', 'trimCov', 'meanGain',
  'searchesPerTrajectory', 'formatValid', 'trajectories', 'tokensGenerated', 'revisions', 'kl', 'entropy', 'clipFraction', 'policyLoss', 'seconds'] as const;

/** StepMetrics as CSV (one line per step; dev EM per split as devEm_<split> columns). */
export function metricsCsv(metrics: readonly StepMetrics[]): string {
  const splits = [...new Set(metrics.flatMap((m) => Object.keys(m.devEm ?? {})))].sort();
  const head = [...CSV_KEYS, ...splits.map((s) => `devEm_${s}`)];
  const rows = metrics.map((m) => [...CSV_KEYS.map((k) => m[k] ?? ''), ...splits.map((s) => m.devEm?.[s] ?? '')].join(','));
  return `${[head.join(','), ...rows].join('\n')}\n`;
}

interface Chart { spec: ChartSpec; plot: uPlot; box: HTMLElement; key: string }

export class ChartsView {
  readonly element: HTMLElement;
  private grid = h('div', { class: 'charts-grid' });
  private note = h('p', { class: 'hint', 'data-testid': 'charts-note' }, 'Charts fill in as training steps complete.');
  private charts = new Map<string, Chart>();
  private metrics: StepMetrics[] = [];
  private exportJson = h('button', { type: 'button', 'aria-label': 'export the step metrics as JSON lines' }, 'Export metrics.jsonl');
  private exportCsv = h('button', { type: 'button', 'aria-label': 'export the step metrics as CSV' }, 'Export CSV');

  constructor() {
    this.exportJson.addEventListener('click', () => download('metrics.jsonl', this.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n', 'application/x-ndjson'));
    this.exportCsv.addEventListener('click', () => download('metrics.csv', metricsCsv(this.metrics), 'text/csv'));
    this.element = h('div', {}, h('div', { class: 'chart-bar' }, this.note, h('span', { class: 'run-actions' }, this.exportJson, this.exportCsv)), this.grid);
    window.addEventListener('resize', () => this.resize());
  }

  private width(): number {
    const w = this.grid.clientWidth;
    if (w <= 0) return 0;
    const cols = w > 900 ? 3 : w > 560 ? 2 : 1;
    return Math.floor((w - (cols - 1) * 16) / cols) - 2;
  }

  set(metrics: readonly StepMetrics[], source: string): void {
    this.metrics = [...metrics].sort((a, b) => a.step - b.step);
    this.exportJson.disabled = this.exportCsv.disabled = metrics.length === 0;
    this.note.textContent = metrics.length
      ? `${metrics.length} step${metrics.length === 1 ? '' : 's'} · ${source}`
      : 'Charts fill in as training steps complete (Play or Step).';
    this.draw();
  }

  /** (Re)draws when the panel is visible; called again when it becomes visible. */
  draw(): void {
    this.grid.hidden = this.metrics.length === 0;
    const width = this.width();
    if (width <= 0) return;
    for (const spec of chartSpecs(this.metrics)) {
      if (!spec.series.length) continue;
      const key = spec.series.map((x) => x.label).join('|');
      const data = alignedData(this.metrics, spec) as uPlot.AlignedData;
      let c = this.charts.get(spec.id);
      if (c && c.key !== key) {
        c.plot.destroy();
        c.box.remove();
        this.charts.delete(spec.id);
        c = undefined;
      }
      if (!c) {
        const box = h('figure', { class: 'chart', 'data-testid': `chart-${spec.id}` }, h('figcaption', {}, h('strong', {}, spec.title), h('span', { class: 'hint' }, ` ${spec.hint}`)));
        this.grid.append(box);
        box.style.width = `${width}px`;
        const plot = new uPlot({
          width,
          height: 170,
          scales: {
            x: { time: false, range: (_u, lo, hi) => (lo === hi ? [lo - 1, hi + 1] : [lo, hi]) },
            // Flat series (a fresh policy's zero reward) get a small range around their value, not uPlot's 0..100.
            y: { range: (_u, lo, hi) => (hi - lo < 1e-9 ? [Math.min(0, lo), Math.max(lo + 1, hi + 0.1 * Math.abs(hi) || 1)] : [Math.min(0, lo), hi + 0.05 * (hi - lo)]) },
          },
          axes: [{ label: 'step', size: 36, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }, { size: 52 }],
          legend: { live: false },
          cursor: { drag: { x: false, y: false } },
          series: [{ label: 'step' }, ...spec.series.map((se) => ({ label: se.label, stroke: se.colour, width: 2, dash: se.dash ? [6, 4] : undefined, points: { show: true, size: 5 }, spanGaps: true }))],
        }, data, box);
        c = { spec, plot, box, key };
        this.charts.set(spec.id, c);
      } else c.plot.setData(data);
    }
  }

  private resize(): void {
    const width = this.width();
    if (width <= 0) return;
    for (const c of this.charts.values()) {
      c.box.style.width = `${width}px`;
      c.plot.setSize({ width, height: 170 });
    }
  }

  refresh(): void {
    this.draw();
    this.resize();
  }
}
