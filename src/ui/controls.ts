// The controls bar: Play, Pause, Step (one GRPO step), Step phase (names the phase it will run), Reset; the preset
// and the main knobs. Every control has a label; the knobs write the URL state (url-state.ts) through onChange.
import type { Phase } from '../rl/events.ts';
import type { TrainPresetName } from '../worker/train-protocol.ts';
import { h } from './dom.ts';
import { BACKENDS, JUDGES, LIMITS, MODELS, PRESET_LABELS, PRESETS, REWARDS, defaultState, type UrlState } from './url-state.ts';

export interface ControlsHandlers {
  play(): void;
  pause(): void;
  step(): void;
  stepPhase(): void;
  reset(): void;
  help(): void;
  /** A knob changed: the new state (preset changes reset the preset's knobs). */
  change(next: UrlState): void;
}

export type TrainerState = 'loading' | 'ready' | 'running' | 'busy' | 'unavailable';

const PHASE_HINT: Record<Phase, string> = {
  rollout: 'the Actor writes a group of trajectories per question',
  judge: 'the Discriminator accepts or rejects each trajectory',
  trim: 'the Trimmer picks a cut step in each rejected one',
  regenerate: 'the Actor regenerates from each cut',
  reward: 'EM, process reward and their product',
  advantage: 'GRPO group advantages',
  update: 'the clipped policy-gradient update',
};

function select<T extends string>(id: string, values: readonly T[], label: (v: T) => string = (v) => v): HTMLSelectElement {
  const el = h('select', { id, name: id });
  for (const v of values) el.append(h('option', { value: v }, label(v)));
  return el;
}

function field(label: string, input: HTMLElement, hint = ''): HTMLElement {
  const id = input.id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('span', { class: 'hint small' }, hint) : '');
}

export class Controls {
  readonly element: HTMLElement;
  readonly playBtn = h('button', { type: 'button', 'data-testid': 'play', 'aria-keyshortcuts': 'Space' }, '▶ Play');
  readonly pauseBtn = h('button', { type: 'button', 'data-testid': 'pause', 'aria-keyshortcuts': 'Space' }, '❚❚ Pause');
  readonly stepBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'step', 'aria-keyshortcuts': 's' }, 'Step');
  readonly phaseBtn = h('button', { type: 'button', 'data-testid': 'step-phase', 'aria-keyshortcuts': 'p' }, 'Step phase');
  readonly resetBtn = h('button', { type: 'button', 'data-testid': 'reset', 'aria-keyshortcuts': 'r' }, '↺ Reset');
  private helpBtn = h('button', { type: 'button', 'aria-keyshortcuts': '?', 'aria-label': 'help and keyboard shortcuts', 'data-testid': 'help' }, '?');
  private preset = select<TrainPresetName>('knob-preset', PRESETS, (p) => PRESET_LABELS[p]);
  private model = select('knob-model', MODELS, (m) => ({ tiny: 'tiny (tests, fastest)', small: 'small (shipped)', base: 'base (GPUs)' })[m]);
  private group = h('input', { id: 'knob-group', type: 'number', min: String(LIMITS.groupSize.min), max: String(LIMITS.groupSize.max), step: '1', inputmode: 'numeric' });
  private rev = h('input', { id: 'knob-rev', type: 'number', min: String(LIMITS.revisionLimit.min), max: String(LIMITS.revisionLimit.max), step: '1', inputmode: 'numeric' });
  private reward = select('knob-reward', REWARDS, (r) => (r === 'em' ? 'EM only (sparse)' : 'hybrid EM × (1 + process)'));
  private lr = h('input', { id: 'knob-lr', type: 'text', inputmode: 'decimal', size: '8' });
  private judge = select('knob-judge', JUDGES);
  private seedInit = h('input', { id: 'knob-seed-init', type: 'number', min: '0', step: '1', inputmode: 'numeric' });
  private seedData = h('input', { id: 'knob-seed-data', type: 'number', min: '0', step: '1', inputmode: 'numeric' });
  private seedSampling = h('input', { id: 'knob-seed-sampling', type: 'number', min: '0', step: '1', inputmode: 'numeric' });
  private backend = select('knob-backend', BACKENDS, (b) => (b === 'webgpu' ? 'WebGPU (falls back to CPU)' : 'CPU'));
  private probe = h('input', { id: 'knob-probe', type: 'number', min: String(LIMITS.probe.min), max: String(LIMITS.probe.max), step: '1', inputmode: 'numeric' });
  private status = h('span', { class: 'trainer-status', 'data-testid': 'trainer-status', 'aria-live': 'polite' }, '');
  private progress = h('progress', { class: 'load-progress', 'aria-label': 'loading progress', 'data-testid': 'load-progress' });
  private state: UrlState = defaultState();

  constructor(handlers: ControlsHandlers) {
    this.playBtn.addEventListener('click', () => handlers.play());
    this.pauseBtn.addEventListener('click', () => handlers.pause());
    this.stepBtn.addEventListener('click', () => handlers.step());
    this.phaseBtn.addEventListener('click', () => handlers.stepPhase());
    this.resetBtn.addEventListener('click', () => handlers.reset());
    this.helpBtn.addEventListener('click', () => handlers.help());
    this.preset.addEventListener('change', () => {
      const p = this.preset.value as TrainPresetName;
      const d = defaultState(p, this.state.model);
      handlers.change({ ...this.state, preset: p, groupSize: d.groupSize, revisionLimit: d.revisionLimit, reward: d.reward });
    });
    this.model.addEventListener('change', () => {
      const m = this.model.value as UrlState['model'];
      const d = defaultState(this.state.preset, m);
      handlers.change({ ...this.state, model: m, groupSize: d.groupSize, lr: d.lr });
    });
    const int = (el: HTMLInputElement, key: 'groupSize' | 'revisionLimit' | 'seedInit' | 'seedData' | 'seedSampling' | 'probe', lo: number, hi: number): void => {
      el.addEventListener('change', () => {
        const v = Number(el.value);
        if (!Number.isInteger(v) || v < lo || v > hi) {
          el.setCustomValidity(`an integer from ${lo} to ${hi}`);
          el.reportValidity();
          return;
        }
        el.setCustomValidity('');
        handlers.change({ ...this.state, [key]: v });
      });
    };
    int(this.group, 'groupSize', LIMITS.groupSize.min, LIMITS.groupSize.max);
    int(this.rev, 'revisionLimit', LIMITS.revisionLimit.min, LIMITS.revisionLimit.max);
    int(this.seedInit, 'seedInit', LIMITS.seed.min, LIMITS.seed.max);
    int(this.seedData, 'seedData', LIMITS.seed.min, LIMITS.seed.max);
    int(this.seedSampling, 'seedSampling', LIMITS.seed.min, LIMITS.seed.max);
    int(this.probe, 'probe', LIMITS.probe.min, LIMITS.probe.max);
    this.lr.addEventListener('change', () => {
      const v = Number(this.lr.value);
      if (!Number.isFinite(v) || v < LIMITS.lr.min || v > LIMITS.lr.max) {
        this.lr.setCustomValidity(`a number from ${LIMITS.lr.min} to ${LIMITS.lr.max}, e.g. 2e-5`);
        this.lr.reportValidity();
        return;
      }
      this.lr.setCustomValidity('');
      handlers.change({ ...this.state, lr: v });
    });
    this.reward.addEventListener('change', () => handlers.change({ ...this.state, reward: this.reward.value as UrlState['reward'] }));
    this.judge.addEventListener('change', () => handlers.change({ ...this.state, judge: this.judge.value as UrlState['judge'] }));
    this.backend.addEventListener('change', () => handlers.change({ ...this.state, backend: this.backend.value as UrlState['backend'] }));
    const knobs = h('details', { class: 'knobs', 'data-testid': 'knobs' },
      h('summary', {}, 'Settings: model, group size, revision limit, reward, learning rate, judge, seeds, backend'),
      h('div', { class: 'knob-grid' },
        field('Model', this.model),
        field('Group size G', this.group, 'rollouts per question'),
        field('Revision limit R', this.rev, 'rounds of judge → cut → regenerate'),
        field('Reward', this.reward),
        field('Learning rate', this.lr),
        field('Process judge', this.judge),
        field('Seed: init', this.seedInit),
        field('Seed: data', this.seedData),
        field('Seed: sampling', this.seedSampling),
        field('Backend', this.backend),
        field('Counterfactual probes', this.probe, 'samples per cut point (0: off)')),
      h('p', { class: 'hint' }, 'Changing a setting restarts training from the warm start. Every setting is in the page address: copy it to share this exact state.'));
    this.element = h('section', { class: 'controls', 'aria-label': 'training controls', 'data-testid': 'controls' },
      h('div', { class: 'buttons' }, this.playBtn, this.pauseBtn, this.stepBtn, this.phaseBtn, this.resetBtn,
        field('Preset', this.preset), this.helpBtn),
      h('div', { class: 'status-row' }, this.progress, this.status),
      knobs);
  }

  setState(s: UrlState): void {
    this.state = s;
    this.preset.value = s.preset;
    this.model.value = s.model;
    this.group.value = String(s.groupSize);
    this.rev.value = String(s.revisionLimit);
    this.reward.value = s.reward;
    this.lr.value = String(s.lr);
    this.judge.value = s.judge;
    this.seedInit.value = String(s.seedInit);
    this.seedData.value = String(s.seedData);
    this.seedSampling.value = String(s.seedSampling);
    this.backend.value = s.backend;
    this.probe.value = String(s.probe);
  }

  /** Loading or step progress (done of total); null hides the bar. */
  setProgress(done: number | null, total = 1): void {
    this.progress.hidden = done === null;
    if (done === null) return;
    this.progress.max = Math.max(1, total);
    this.progress.value = Math.min(done, total);
  }

  /** Enables what makes sense in a trainer state; `next` is the phase Step phase will run. */
  setTrainer(state: TrainerState, next: Phase | null, message: string): void {
    const ready = state === 'ready';
    this.stepBtn.disabled = !ready;
    this.phaseBtn.disabled = !ready;
    this.playBtn.disabled = !ready;
    this.pauseBtn.disabled = state !== 'running';
    this.resetBtn.disabled = state === 'loading' || state === 'unavailable';
    this.playBtn.hidden = state === 'running';
    this.pauseBtn.hidden = state !== 'running';
    this.phaseBtn.textContent = next ? `Step phase: ${next}` : 'Step phase';
    this.phaseBtn.title = next ? `Run the ${next} phase: ${PHASE_HINT[next]}` : 'Run the next phase of the step';
    this.status.textContent = message;
    this.status.className = `trainer-status ${state}`;
    if (state !== 'loading' && state !== 'busy') this.setProgress(null);
    else if (state === 'loading' && this.progress.hidden) {
      this.progress.hidden = false;
      this.progress.removeAttribute('value'); // indeterminate until the worker reports
    }
  }
}
