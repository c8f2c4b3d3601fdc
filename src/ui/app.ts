// The playground page: header (backend always visible), controls, the step's phase timeline, and the panels
// (trajectory viewer, credit view, charts, ablations & runs, engine self-test). It renders what the training worker
// sends; it computes nothing. The shipped example step is shown before any model has loaded.
import * as Comlink from 'comlink';
import type { BackendInfo } from '../engine/types.ts';
import { PHASES, type Phase, type PhaseEvent, type StepMetrics, type StepRecord, type TrainerEvent } from '../rl/events.ts';
import type { EngineWorkerApi } from '../worker/protocol.ts';
import { worldCreditLine } from '../world/credits.ts';
import { backendBadge } from './backend-badge.ts';
import { ChartsView } from './charts-view.ts';
import { Controls, type TrainerState } from './controls.ts';
import { CreditView } from './credit-view.ts';
import { h } from './dom.ts';
import { fmtDuration } from './format.ts';
import { helpDialog } from './help.ts';
import { RunsView } from './runs-view.ts';
import { SelfTestPanel } from './selftest-panel.ts';
import { applyEvent, emptyStep, fromRecord, nextPhaseOf, refinerSummary, type StepModel } from './step-model.ts';
import { installTooltips } from './tooltip.ts';
import { hasTrainer, startTrainer, type TrainerClient } from './trainer-client.ts';
import { TrajectoryViewer } from './trajectory-view.ts';
import { configChanged, PANEL_TITLES, PANELS, parseUrlState, serializeUrlState, toTrainConfig, type PanelId, type UrlState } from './url-state.ts';

const PHASE_TEXT: Record<Phase, string> = {
  rollout: 'Actor writes rollouts',
  judge: 'Discriminator judges',
  trim: 'Trimmer cuts',
  regenerate: 'Actor regenerates',
  reward: 'rewards',
  advantage: 'advantages',
  update: 'policy update',
};

type Source = { kind: 'none'; why: string } | { kind: 'example' } | { kind: 'live' };

export class App {
  private state: UrlState;
  private controls: Controls;
  private traj: TrajectoryViewer;
  private credit: CreditView;
  private charts = new ChartsView();
  private runs = new RunsView();
  private selftest: SelfTestPanel;
  private help = helpDialog();
  private badgeSlot = h('div', { class: 'badge-slot' });
  private notices = h('div', { class: 'notices', 'aria-live': 'polite' });
  private stepHead = h('div', { class: 'step-head-bar', 'data-testid': 'step-source' });
  private timeline = h('ol', { class: 'timeline', 'aria-label': 'phases of the GRPO step', 'data-testid': 'timeline' });
  private panels = new Map<PanelId, HTMLElement>();
  private presentNav = h('nav', { class: 'present-nav', 'aria-label': 'presentation' });
  private model: StepModel | null = null;
  private source: Source = { kind: 'none', why: 'Loading the example step…' };
  private exampleMetrics: StepMetrics[] = [];
  private liveMetrics = new Map<number, StepMetrics>();
  private trainer: TrainerClient | null = null;
  private trainerState: TrainerState = 'loading';
  private next: Phase | null = null;
  private generation = 0;
  private engineInfo: BackendInfo | null = null;
  private trainInfo: BackendInfo | null = null;
  private renderQueued = false;

  constructor(private readonly root: HTMLElement, private readonly engine: Comlink.Remote<EngineWorkerApi>, engineWorker: Worker) {
    const parsed = parseUrlState(location.search);
    this.state = parsed.state;
    this.controls = new Controls({
      play: () => void this.play(),
      pause: () => void this.pause(),
      step: () => void this.step(),
      stepPhase: () => void this.stepPhase(),
      reset: () => void this.restart('Reset: back to the warm-start policy.'),
      help: () => this.help.showModal(),
      change: (next) => this.setState(next),
    });
    this.traj = new TrajectoryViewer({
      onOpen: (id) => this.setState({ ...this.state, traj: id }),
      onGroup: (i) => this.setState({ ...this.state, group: i, traj: null }),
    });
    this.credit = new CreditView({ onColour: (c) => this.setState({ ...this.state, colour: c }) });
    this.selftest = new SelfTestPanel(engine);
    this.build();
    for (const w of parsed.warnings) this.notice(`Link: ${w}.`, 'warn');
    engineWorker.addEventListener('message', (ev: MessageEvent) => {
      const d = ev.data as { type?: string; reason?: string; message?: string };
      if (d && d.type === 'device-lost') this.notice(`The GPU device was lost (${d.reason}): ${d.message}. Reload to continue on the CPU backend.`, 'warn');
    });
    installTooltips();
    this.keyboard();
    window.addEventListener('popstate', () => this.setState(parseUrlState(location.search).state, false));
    this.controls.setState(this.state);
    this.setTrainer('loading', 'Loading the world, index and warm-start checkpoint…');
    this.render();
    void this.loadExample();
    void this.startEngine();
    void this.restart();
  }

  // ---- layout ----

  private panel(id: PanelId, intro: string, body: HTMLElement): HTMLElement {
    const el = h('section', { class: 'panel', id: `panel-${id}`, 'data-panel': id, 'aria-labelledby': `h-${id}`, 'data-testid': `panel-${id}` },
      h('h2', { id: `h-${id}` }, PANEL_TITLES[id]), intro ? h('p', { class: 'hint intro' }, intro) : '', body);
    this.panels.set(id, el);
    return el;
  }

  private build(): void {
    const header = h('header', { class: 'top' }, h('h1', {}, 'Search-R2 Playground'), this.badgeSlot);
    this.badgeSlot.replaceChildren(backendBadge(null));
    const selfBody = this.selftest.element;
    this.root.append(
      header,
      h('p', { class: 'tagline' }, 'A small search agent learns with GRPO in this tab. ',
        h('strong', {}, 'Step'), ' runs one training step; ', h('strong', {}, 'Step phase'), ' walks through it: the Actor searches and answers, the Meta-Refiner rejects and repairs flawed trajectories, rewards become credit on every token. Hover or focus any number to see where it came from; ',
        h('kbd', {}, '?'), ' explains more.'),
      this.controls.element,
      this.notices,
      h('section', { class: 'step-bar', 'aria-label': 'current step' }, this.stepHead, this.timeline),
      this.presentNav,
      h('main', { class: 'panels' },
        this.panel('trajectories', 'One question, its group of rollouts. Open a rollout to read its steps; rejected ones show what was cut and what replaced it.', this.traj.element),
        this.panel('credit', 'How the reward turns into credit on every generated token.', this.credit.element),
        this.panel('charts', '', this.charts.element),
        this.panel('runs', '', this.runs.element),
        this.panel('selftest', '', selfBody)),
      h('footer', {},
        h('p', {}, 'Method: He et al., "Search-R2: Enhancing Search-Integrated Reasoning via Actor-Refiner Collaboration" (arXiv:2602.03647). Baseline: Search-R1. Everything runs in this tab, offline.'),
        h('p', { 'data-testid': 'world-credits' }, worldCreditLine())),
      this.help);
  }

  private notice(text: string, cls: 'warn' | 'info' = 'info'): void {
    const close = h('button', { type: 'button', class: 'link', 'aria-label': 'dismiss' }, '×');
    const el = h('p', { class: `notice ${cls}`, role: cls === 'warn' ? 'alert' : 'status' }, text, close);
    close.addEventListener('click', () => el.remove());
    this.notices.append(el);
  }

  // ---- state ----

  private setState(next: UrlState, push = true): void {
    const restart = configChanged(this.state, next);
    this.state = next;
    if (push) {
      const url = `${location.pathname}${serializeUrlState(next)}${location.hash}`;
      if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
    }
    this.controls.setState(next);
    if (restart) void this.restart('Settings changed: training restarts from the warm-start policy.');
    this.render();
  }

  private visiblePanels(): PanelId[] {
    return PANELS.filter((p) => !this.state.hide.includes(p));
  }

  private render(): void {
    this.renderQueued = false;
    const s = this.state;
    document.body.classList.toggle('present', s.present);
    const vis = this.visiblePanels();
    const slide = Math.min(s.slide, Math.max(0, vis.length - 1));
    for (const [id, el] of this.panels) el.hidden = !vis.includes(id) || (s.present && vis[slide] !== id);
    this.renderPresentNav(vis, slide);
    this.renderStepHead();
    this.traj.render(this.model, s.group, s.traj);
    this.credit.render(this.model, s.group, s.colour);
    const metrics = this.source.kind === 'live' ? [...this.liveMetrics.values()] : this.exampleMetrics;
    this.charts.set(metrics, this.source.kind === 'live' ? `live run (${s.preset})` : this.source.kind === 'example' ? 'the shipped example step' : 'no data yet');
    if (!this.panels.get('charts')?.hidden) requestAnimationFrame(() => this.charts.refresh());
  }

  private queueRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => this.render());
  }

  private renderPresentNav(vis: PanelId[], slide: number): void {
    if (!this.state.present) {
      this.presentNav.hidden = true;
      return;
    }
    this.presentNav.hidden = false;
    const prev = h('button', { type: 'button', 'aria-label': 'previous panel', 'data-testid': 'present-prev' }, `‹ ${vis[slide - 1] ? PANEL_TITLES[vis[slide - 1]] : ''}`);
    const next = h('button', { type: 'button', 'aria-label': 'next panel', 'data-testid': 'present-next' }, `${vis[slide + 1] ? PANEL_TITLES[vis[slide + 1]] : ''} ›`);
    prev.disabled = slide === 0;
    next.disabled = slide >= vis.length - 1;
    prev.addEventListener('click', () => this.setState({ ...this.state, slide: slide - 1 }));
    next.addEventListener('click', () => this.setState({ ...this.state, slide: slide + 1 }));
    const exit = h('button', { type: 'button', class: 'link' }, 'leave presentation mode');
    exit.addEventListener('click', () => this.setState({ ...this.state, present: false }));
    this.presentNav.replaceChildren(prev, h('span', {}, `${slide + 1} / ${vis.length} · ${PANEL_TITLES[vis[slide]] ?? ''}`), next, exit);
  }

  private renderStepHead(): void {
    const m = this.model;
    let label: string;
    let cls = 'source';
    if (this.source.kind === 'none') {
      label = this.source.why;
      cls = 'source none';
    } else if (this.source.kind === 'example') {
      label = `Example step, recorded with the shipped checkpoint (step ${m?.step ?? '?'}${m?.metrics ? `, preset ${m.metrics.preset}` : ''}). Press Step to run a live one.`;
      cls = 'source example';
    } else label = `Live step ${m?.step ?? ''}${m && nextPhaseOf(m) === null ? ' (complete)' : ''} · ${this.state.preset} · ${this.state.model} policy`;
    const parts: (HTMLElement | string)[] = [h('span', { class: cls, 'data-testid': 'source-label' }, label)];
    if (m) {
      const took = PHASES.reduce((a, p) => a + (m.seconds[p] ?? 0), 0);
      parts.push(h('span', { class: 'hint', 'data-testid': 'refiner-summary' }, ` · ${refinerSummary(m)}${took ? ` · ${fmtDuration(took)}` : ''}`));
    }
    this.stepHead.replaceChildren(...parts);
    const next = m ? nextPhaseOf(m) : null;
    this.timeline.replaceChildren(...PHASES.map((p) => {
      const done = !!m && m.done.includes(p);
      const skipped = !!m && m.skipped.includes(p);
      // The next phase is marked while the shown step is in progress; a complete step shows all seven done.
      const isNext = this.source.kind === 'live' && next !== null && this.next === p && !done;
      const li = h('li', { class: `ph${done ? ' done' : ''}${skipped ? ' skipped' : ''}${isNext ? ' next' : ''}`, 'data-phase': p },
        h('span', { class: 'ph-name' }, p), h('span', { class: 'ph-text' }, skipped ? 'skipped (no refiner)' : PHASE_TEXT[p]));
      if (isNext) li.setAttribute('aria-current', 'step');
      return li;
    }));
  }

  // ---- data sources ----

  private async loadExample(): Promise<void> {
    try {
      const res = await fetch(`${import.meta.env.BASE_URL}example-step.json`);
      const type = res.headers.get('content-type') ?? '';
      if (!res.ok || type.includes('text/html')) throw new Error('missing');
      const rec = (await res.json()) as StepRecord;
      if (!rec || !Array.isArray(rec.events) || !rec.metrics) throw new Error('not a StepRecord');
      if (this.source.kind === 'live') return;
      this.model = fromRecord(rec);
      this.exampleMetrics = [rec.metrics];
      this.source = { kind: 'example' };
      this.pickGroup();
    } catch (e) {
      if (this.source.kind === 'live') return;
      this.source = { kind: 'none', why: (e as Error).message === 'missing' ? 'No example step shipped with this build; press Step once the model has loaded.' : `The shipped example step could not be read (${String(e)}).` };
    }
    this.render();
  }

  /** Without a question chosen in the link, show the first group with a learning signal (rewards that differ). */
  private pickGroup(): void {
    const m = this.model;
    if (!m || new URLSearchParams(location.search).has('q')) return;
    const best = m.groups.find((g) => g.std > 1e-9);
    const qi = best ? m.questions.findIndex((q) => q.id === best.question.id) : -1;
    this.state = { ...this.state, group: Math.max(0, qi) };
  }

  private async startEngine(): Promise<void> {
    try {
      this.engineInfo = await this.engine.init();
      this.renderBadge();
      await this.selftest.load();
    } catch (e) {
      this.badgeSlot.replaceChildren(h('div', { class: 'backend warn', role: 'alert', 'data-testid': 'backend' }, `The engine failed to start: ${String(e)}`));
    }
  }

  private renderBadge(): void {
    let info = this.trainInfo ?? this.engineInfo;
    // Asked for WebGPU but training runs on the CPU: that is a fallback, with the engine's reason when it has one.
    if (info && this.trainInfo && info.kind === 'cpu' && !info.fallbackReason && this.state.backend === 'webgpu')
      info = { ...info, fallbackReason: this.engineInfo?.fallbackReason || 'the training worker could not use WebGPU' };
    this.badgeSlot.replaceChildren(backendBadge(info, this.trainInfo ? 'training' : ''));
  }

  private setTrainer(state: TrainerState, msg: string): void {
    this.trainerState = state;
    this.controls.setTrainer(state, this.next, msg);
    this.runs.setApi(state === 'ready' || state === 'busy' || state === 'running' ? this.runsApi() : null,
      state === 'unavailable' ? msg : state === 'loading' ? 'The suite can start once the training worker has loaded.' : '');
    if (state === 'ready' && !document.body.dataset.stepReadyMs) document.body.dataset.stepReadyMs = String(Math.round(performance.now()));
  }

  private runsApi(): import('./runs-view.ts').RunsApi {
    return {
      runSuite: async (suite, opts, onProgress) => {
        const t = this.trainer;
        if (!t) throw new Error('no training worker');
        this.setTrainer('busy', `Running the ${suite} suite…`);
        try {
          return await t.api.runSuite(suite, opts, Comlink.proxy(onProgress));
        } finally {
          this.setTrainer('ready', 'Ready.');
        }
      },
      listRuns: async () => (this.trainer ? this.trainer.api.listRuns() : []),
      saveRun: async (name) => {
        if (!this.trainer) throw new Error('no training worker');
        return this.trainer.api.save(name);
      },
      deleteRun: async (id) => {
        await this.trainer?.api.deleteRun(id);
      },
      loadRun: async (id) => {
        if (!this.trainer) return;
        const ref = await this.trainer.api.load(id);
        const metrics = await this.trainer.api.metrics();
        this.liveMetrics = new Map(metrics.map((m) => [m.step, m]));
        this.source = { kind: 'live' };
        this.model = emptyStep(ref.step);
        this.notice(`Reopened the saved run "${ref.name}" at step ${ref.step}.`);
        this.next = await this.trainer.api.nextPhase();
        this.setTrainer('ready', 'Ready.');
        this.render();
      },
    };
  }

  /** (Re)starts the training worker with the current settings. */
  private async restart(why = ''): Promise<void> {
    const gen = ++this.generation;
    if (this.trainer) {
      this.trainer.worker.terminate();
      this.trainer = null;
    }
    this.liveMetrics.clear();
    if (this.source.kind === 'live') {
      this.source = { kind: 'none', why: 'Restarting…' };
      this.model = null;
      void this.loadExample();
    }
    if (why) this.notice(why);
    if (!hasTrainer()) {
      this.setTrainer('unavailable', 'The training worker is not part of this build yet: only the shipped example step can be browsed.');
      return;
    }
    this.setTrainer('loading', 'Loading the world, index and warm-start checkpoint…');
    this.next = null;
    try {
      const config = toTrainConfig(this.state);
      const t = await startTrainer();
      if (!t || gen !== this.generation) {
        t?.worker.terminate();
        return;
      }
      this.trainer = t;
      t.worker.addEventListener('error', (e) => this.notice(`The training worker failed: ${e.message}`, 'warn'));
      const info = await t.api.init(config, Comlink.proxy((e: TrainerEvent) => {
        if (gen === this.generation) this.onEvent(e);
      }));
      if (gen !== this.generation) return;
      this.trainInfo = info.backend;
      this.renderBadge();
      this.next = await t.api.nextPhase();
      this.setTrainer('ready', `Ready: ${info.questions} training questions, ${info.parameters.toLocaleString('en')} parameters. Press Step, or Step phase to go one phase at a time.`);
      this.render();
    } catch (e) {
      if (gen !== this.generation) return;
      this.setTrainer('unavailable', `Training could not start: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private onEvent(e: TrainerEvent): void {
    switch (e.type) {
      case 'phase':
        this.applyPhase(e);
        break;
      case 'step':
        this.liveMetrics.set(e.step, e.metrics);
        if (this.model && this.model.step === e.step) this.model.metrics = e.metrics;
        this.queueRender();
        break;
      case 'progress':
        if (this.trainerState === 'loading' || this.trainerState === 'busy') {
          this.controls.setTrainer(this.trainerState, this.next, e.total > 1 ? `${e.what}: ${Math.min(e.done, e.total)} of ${e.total}…` : `${e.done >= e.total ? 'Loaded' : 'Loading'} ${e.what}…`);
          if (e.total > 0) this.controls.setProgress(e.done, e.total);
        }
        break;
      case 'status':
        // Things a person should know (fallbacks, a missing checkpoint, a finished schedule) stay on screen.
        if (e.message) this.notice(`Trainer: ${e.message}`);
        break;
      case 'error':
        this.notice(`Training error: ${e.message}`, 'warn');
        break;
      case 'eval':
        break;
    }
  }

  private applyPhase(e: PhaseEvent): void {
    if (this.source.kind !== 'live' || !this.model) {
      this.source = { kind: 'live' };
      this.model = emptyStep(e.step);
      this.state = { ...this.state, traj: null };
    }
    this.model = applyEvent(this.model, e);
    // Additive field of the reward event: the configured judge failed and the gold judge stood in.
    const fallback = e.phase === 'reward' ? (e as { judgeFallback?: string }).judgeFallback : undefined;
    if (fallback) this.notice(`Process judge: ${fallback}`, 'warn');
    this.queueRender();
  }

  // ---- actions ----

  private async step(): Promise<void> {
    const t = this.trainer;
    if (!t || this.trainerState !== 'ready') return;
    this.setTrainer('busy', 'Running one GRPO step…');
    try {
      const rec = await t.api.step();
      if (t !== this.trainer) return;
      const fresh = this.source.kind !== 'live' || !this.model || this.model.step !== rec.step;
      if (fresh) this.state = { ...this.state, traj: null };
      this.model = fromRecord(rec);
      this.source = { kind: 'live' };
      this.pickGroup();
      this.liveMetrics.set(rec.step, rec.metrics);
      this.next = await t.api.nextPhase();
      this.setTrainer('ready', `Step ${rec.step} done in ${fmtDuration(rec.metrics.seconds)}.`);
    } catch (e) {
      this.setTrainer('ready', `The step failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.render();
  }

  private async stepPhase(): Promise<void> {
    const t = this.trainer;
    if (!t || this.trainerState !== 'ready') return;
    const phase = this.next;
    this.setTrainer('busy', `Running the ${phase ?? 'next'} phase…`);
    try {
      const e = await t.api.stepPhase();
      if (t !== this.trainer) return;
      if (e.phase === 'rollout' && this.model && this.source.kind === 'live' && this.model.step !== e.step) this.state = { ...this.state, traj: null };
      this.applyPhase(e);
      this.next = await t.api.nextPhase();
      this.setTrainer('ready', `Step ${e.step}: ${e.phase} done${e.seconds ? ` in ${fmtDuration(e.seconds)}` : ''}. Next: ${this.next}.`);
    } catch (err) {
      this.setTrainer('ready', `The phase failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.render();
  }

  private async play(): Promise<void> {
    const t = this.trainer;
    if (!t || this.trainerState !== 'ready') return;
    this.setTrainer('running', 'Training… (Space or Pause to stop after the current phase)');
    try {
      await t.api.start();
    } catch (e) {
      this.notice(`Training stopped: ${e instanceof Error ? e.message : String(e)}`, 'warn');
    }
    if (t !== this.trainer) return;
    this.next = await t.api.nextPhase().catch(() => null);
    this.setTrainer('ready', `Paused after step ${this.model?.step ?? 0}.`);
    this.render();
  }

  private async pause(): Promise<void> {
    if (!this.trainer || this.trainerState !== 'running') return;
    this.controls.setTrainer('running', this.next, 'Pausing after the current phase…');
    await this.trainer.api.pause();
  }

  // ---- keyboard ----

  private keyboard(): void {
    document.addEventListener('keydown', (e) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      const tag = t?.tagName ?? '';
      if (['INPUT', 'SELECT', 'TEXTAREA'].includes(tag) || t?.isContentEditable || this.help.open) return;
      const onControl = tag === 'BUTTON' || tag === 'SUMMARY' || tag === 'A';
      const inTokens = !!t?.closest('.tokens');
      if (e.key === ' ' && !onControl) {
        e.preventDefault();
        if (this.trainerState === 'running') void this.pause();
        else void this.play();
      } else if (e.key === 's') void this.step();
      else if (e.key === 'p') void this.stepPhase();
      else if (e.key === 'r' && this.trainerState !== 'loading') void this.restart('Reset: back to the warm-start policy.');
      else if (e.key === '?') this.help.showModal();
      else if (this.state.present && !inTokens && (e.key === 'ArrowRight' || e.key === 'PageDown' || e.key === 'ArrowLeft' || e.key === 'PageUp')) {
        const vis = this.visiblePanels();
        const d = e.key === 'ArrowRight' || e.key === 'PageDown' ? 1 : -1;
        const slide = Math.max(0, Math.min(vis.length - 1, this.state.slide + d));
        if (slide !== this.state.slide) this.setState({ ...this.state, slide });
        e.preventDefault();
      } else return;
    });
  }
}
