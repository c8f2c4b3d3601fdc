// View model of one GRPO step, built from the trainer's PhaseEvents (src/rl/events.ts). Pure: no DOM, no training;
// it only indexes what the events say so the views can ask "what happened to trajectory X" and "where did this
// number come from". Applying an event twice gives the same model (step() returns a record whose events the
// onEvent stream may already have delivered).
import type {
  AdvantageView,
  GroupView,
  JudgeDecision,
  Phase,
  PhaseEvent,
  ProbeView,
  QuestionView,
  Regeneration,
  RewardView,
  StepMetrics,
  StepRecord,
  TrajectoryView,
  TrimDecision,
  UpdateStats,
} from '../rl/events.ts';
import { PHASES } from '../rl/events.ts';
import { fmt, fmtSigned } from './format.ts';

export interface StepModel {
  step: number;
  done: Phase[];
  skipped: Phase[];
  seconds: Partial<Record<Phase, number>>;
  questions: QuestionView[];
  /** Every trajectory of the step, originals and regenerations, by id (insertion order: rollout, then revisions). */
  trajectories: Map<string, TrajectoryView>;
  judge: JudgeDecision[];
  trim: TrimDecision[];
  regenerations: Regeneration[];
  probes: ProbeView[];
  rewards: Map<string, RewardView>;
  groups: GroupView[];
  advantages: Map<string, AdvantageView>;
  stats: UpdateStats | null;
  metrics: StepMetrics | null;
}

export function emptyStep(step: number): StepModel {
  return {
    step,
    done: [],
    skipped: [],
    seconds: {},
    questions: [],
    trajectories: new Map(),
    judge: [],
    trim: [],
    regenerations: [],
    probes: [],
    rewards: new Map(),
    groups: [],
    advantages: new Map(),
    stats: null,
    metrics: null,
  };
}

function mergeBy<T>(list: T[], add: readonly T[], key: (x: T) => string): T[] {
  const keys = new Set(add.map(key));
  return [...list.filter((x) => !keys.has(key(x))), ...add];
}

/** Applies one phase event (mutates and returns the model). A new step number starts a fresh model. */
export function applyEvent(model: StepModel, e: PhaseEvent): StepModel {
  const m = e.step !== model.step ? emptyStep(e.step) : model;
  if (!m.done.includes(e.phase)) m.done = PHASES.filter((p) => p === e.phase || m.done.includes(p));
  m.seconds[e.phase] = e.seconds;
  if ('skipped' in e && e.skipped && !m.skipped.includes(e.phase)) m.skipped.push(e.phase);
  switch (e.phase) {
    case 'rollout':
      m.questions = e.questions;
      for (const t of e.trajectories) m.trajectories.set(t.id, t);
      break;
    case 'judge':
      m.judge = mergeBy(m.judge, e.decisions, (d) => `${d.trajectoryId}@${d.round}`);
      break;
    case 'trim':
      m.trim = mergeBy(m.trim, e.decisions, (d) => `${d.trajectoryId}@${d.round}`);
      break;
    case 'regenerate':
      m.regenerations = mergeBy(m.regenerations, e.regenerations, (r) => r.regeneratedId);
      for (const t of e.trajectories) m.trajectories.set(t.id, t);
      m.probes = mergeBy(m.probes, e.probes, (p) => p.trajectoryId);
      break;
    case 'reward':
      for (const r of e.rewards) m.rewards.set(r.trajectoryId, r);
      break;
    case 'advantage':
      m.groups = e.groups;
      for (const a of e.advantages) m.advantages.set(a.trajectoryId, a);
      break;
    case 'update':
      m.stats = e.stats;
      for (const a of e.advantages) m.advantages.set(a.trajectoryId, a);
      break;
  }
  return m;
}

export function fromRecord(rec: StepRecord): StepModel {
  let m = emptyStep(rec.step);
  for (const e of rec.events) m = applyEvent(m, e);
  m.metrics = rec.metrics;
  return m;
}

/** The phase after the last one done (null when the step is complete). */
export function nextPhaseOf(m: StepModel): Phase | null {
  for (const p of PHASES) if (!m.done.includes(p)) return p;
  return null;
}

/** One member of a group: the Actor's original and the revisions that replaced it, in order. */
export interface Slot {
  index: number;
  chain: TrajectoryView[];
  /** The trajectory that ended up in the group (last revision, or GroupView.finalIds when known). */
  final: TrajectoryView;
}

export interface GroupModel {
  question: QuestionView;
  /** Position of the question in the step (0-based). */
  index: number;
  slots: Slot[];
  group: GroupView | null;
}

export function groupModel(m: StepModel, index: number): GroupModel | null {
  const question = m.questions[index];
  if (!question) return null;
  const all = [...m.trajectories.values()].filter((t) => t.questionId === question.id);
  const originals = all.filter((t) => t.revision === 0).sort((a, b) => a.group - b.group);
  const group = m.groups.find((g) => g.question.id === question.id) ?? null;
  const slots = originals.map((o, i) => {
    const chain = [o];
    for (;;) {
      const last = chain[chain.length - 1];
      const next = all.find((t) => t.parentId === last.id);
      if (!next || chain.includes(next)) break;
      chain.push(next);
    }
    const finalId = group?.finalIds[i];
    const final = (finalId && m.trajectories.get(finalId)) || chain[chain.length - 1];
    return { index: o.group, chain, final };
  });
  return { question, index, slots, group };
}

export function judgeOf(m: StepModel, trajectoryId: string): JudgeDecision | undefined {
  return m.judge.filter((d) => d.trajectoryId === trajectoryId).sort((a, b) => b.round - a.round)[0];
}

export function trimOf(m: StepModel, trajectoryId: string): TrimDecision | undefined {
  return m.trim.filter((d) => d.trajectoryId === trajectoryId).sort((a, b) => b.round - a.round)[0];
}

export function regenerationOf(m: StepModel, originalId: string): Regeneration | undefined {
  return m.regenerations.find((r) => r.originalId === originalId);
}

export function probeOf(m: StepModel, trajectoryId: string): ProbeView | undefined {
  return m.probes.find((p) => p.trajectoryId === trajectoryId);
}

/** Which step a token belongs to: 1..K for search steps, K+1 for the answer segment, 0 before the first step. */
export function stepOfToken(t: TrajectoryView, tokenIndex: number): number {
  for (const s of t.steps) if (tokenIndex >= s.tokenStart && tokenIndex < s.tokenEnd) return s.index;
  const last = t.steps[t.steps.length - 1];
  if (last && tokenIndex >= last.tokenEnd) return last.index + 1;
  return t.steps.length === 0 ? 1 : 0;
}

// ---- provenance: the text a tooltip shows for each number (trajectory id, step, token, formula with values) ----

export function rewardFormula(r: RewardView, hybrid: boolean): string {
  const useful = r.labels.filter((l) => l === 'useful').length;
  const proc = r.labels.length ? `process = useful / searches = ${useful} / ${r.labels.length} = ${fmt(r.process)}` : 'process = 0 (no search)';
  const reward = hybrid
    ? `R = EM × (1 + process) = ${r.em} × (1 + ${fmt(r.process)}) = ${fmt(r.reward)}`
    : `R = EM = ${r.em} (outcome-only reward)`;
  return `${proc}\n${reward}`;
}

/** Whether the step's rewards follow the hybrid formula (an outcome-only step has R = EM even where process > 0). */
export function isHybrid(m: StepModel): boolean {
  const rs = [...m.rewards.values()];
  return rs.some((r) => Math.abs(r.reward - r.em) > 1e-9) || !rs.some((r) => r.em === 1 && r.process > 0);
}

export function advantageFormula(trajectoryId: string, r: RewardView | undefined, g: GroupView | null, a: AdvantageView): string {
  if (!r || !g) return `A(${trajectoryId}) = ${fmtSigned(a.advantage, 3)}`;
  return `A = (R − mean) / (std + 1e-6) = (${fmt(r.reward, 3)} − ${fmt(g.mean, 3)}) / (${fmt(g.std, 3)} + 1e-6) = ${fmtSigned(a.advantage, 3)}`;
}

export function tokenTip(t: TrajectoryView, i: number, m: StepModel, g: GroupView | null, colour: 'advantage' | 'loss'): string {
  const tok = t.tokens[i];
  const step = stepOfToken(t, i);
  const a = m.advantages.get(t.id);
  const where = `trajectory ${t.id} · step ${step} · token ${i} ${JSON.stringify(tok.text)} (id ${tok.id})`;
  if (tok.policy === 0) return `${where}\nobservation token (retrieved text): masked out of the loss, advantage 0`;
  const lines = [where, `sampling log-prob ${fmt(tok.logprob, 3)}`];
  if (a) {
    lines.push(`token advantage ${fmtSigned(a.tokenAdvantages[i] ?? 0, 3)} = sequence advantage of ${t.id}`);
    lines.push(advantageFormula(t.id, m.rewards.get(t.id), g, a));
    if (a.tokenLoss.length) lines.push(`loss contribution ${fmtSigned(a.tokenLoss[i] ?? 0, 5)} (clipped surrogate + KL, token-mean)`);
    else if (colour === 'loss') lines.push('loss contribution: filled in by the update phase');
  } else lines.push('advantage: computed in the advantage phase');
  return lines.join('\n');
}

/** Per-token values for colouring (advantage or loss), 0 where unknown. */
export function tokenValues(m: StepModel, t: TrajectoryView, colour: 'advantage' | 'loss'): number[] {
  const a = m.advantages.get(t.id);
  const src = a ? (colour === 'loss' ? a.tokenLoss : a.tokenAdvantages) : [];
  return t.tokens.map((_, i) => (Number.isFinite(src[i]) ? src[i] : 0));
}

/** A one-line summary of what the refiner did in this step (for the step header). */
export function refinerSummary(m: StepModel): string {
  const judged = new Set(m.judge.filter((d) => d.round === 1).map((d) => d.trajectoryId)).size;
  const rejected = m.judge.filter((d) => !d.accept).length;
  if (!m.done.includes('judge')) return 'the Meta-Refiner has not judged yet';
  if (m.skipped.includes('judge')) return 'no Meta-Refiner in this preset (Search-R1)';
  const regen = m.regenerations.length;
  return `Discriminator judged ${judged} trajectories, rejected ${rejected}; ${regen} regenerated`;
}
