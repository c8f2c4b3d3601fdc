// The training step as explicit phases (DESIGN 3, 4; issue 6):
//   rollout -> judge -> trim -> regenerate [-> judge -> trim -> regenerate, while revisions remain] -> reward
//   -> advantage -> update
// Each runPhase() runs one phase and returns (and emits) its PhaseEvent, filled completely (events.ts). step() runs
// the remaining phases of the current step and returns its StepRecord. With a revision limit R > 1 the judge, trim
// and regenerate phases repeat (round 2..R) on the trajectories regenerated in the previous round; every decision
// carries its round. With the refiner off the three refiner phases still run, as `skipped` events, so the phase
// order the UI steps through is the same for every preset.
//
// Randomness (resumable from the step number alone, see run-state.ts): the questions of step s are positions
// (s-1)*Q .. s*Q-1 of the training pool, walked epoch by epoch, each epoch in the order of
// shuffle(stream(seeds.data, "epoch:<e>")); rollouts use streamSeed(seeds.sampling, "rollout:<s>") (each sequence
// then has its own stream, src/agent/rollout.ts), regenerations "regen:<s>:<round>", the Discriminator's draws and
// the Trimmer's samples Rng(streamSeed(seeds.sampling, "judge|trim:<s>:<round>")).
//
// Weights: rollouts sample from the decoder, int8 weights refreshed after every update (DESIGN 4.4) on webgpu; on the
// cpu backend fp32 by default (TrainConfig.rolloutWeights: 'int8' selects int8 there too): measured on the small
// policy, 8 x 5 rollouts from a fresh policy took 4.73 s with int8 and 4.54 s with fp32 (WASM int8 kernel, 2
// threads), so int8 buys nothing on cpu. Old log-probs are recomputed with the fp32 weights before the update; reference
// log-probs come from the frozen warm-start model.
import type { RefinerDecisionRecord } from '../refiner/joint.ts';
import { pickGroup, relationChainKey, temperedCumulative } from '../agent/balance.ts';
import type { PassageRetriever, Rollout, RolloutOptions } from '../agent/rollout.ts';
import { rollout } from '../agent/rollout.ts';
import { AdamW } from '../engine/optim.ts';
import { Rng } from '../engine/rng.ts';
import type { Backend } from '../engine/types.ts';
import { KvDecoder } from '../model/decoder-cache.ts';
import type { Transformer } from '../model/transformer.ts';
import { answerContainmentJudge, goldEvidenceJudge, judgeWithFallback, type ProcessJudge } from '../reward/judges.ts';
import { scoreFromLabels, type RolloutScore } from '../reward/score.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import type { TrainConfig } from '../worker/train-protocol.ts';
import { groupBy, shuffle, stream, streamSeed } from '../world/random.ts';
import type { SplitQuestions } from '../world/types.ts';
import { TRAINING_SPLITS } from '../world/types.ts';
import { grpoAdvantages } from './advantages.ts';
import type {
  AdvantageView, GroupView, JudgeDecision, Phase, PhaseEvent, ProbeView, Regeneration, RewardView, StepMetrics, StepRecord,
  TrainerEvent, TrajectoryView, TrimDecision, UpdateStats,
} from './events.ts';
import { evaluatePolicy } from './evaluate.ts';
import { stepMetrics, type RevisionOutcome } from './metrics.ts';
import { resolveConfig, type ResolvedConfig } from './presets.ts';
import { type SplitQuestion, perPolicyToken, questionView, trajectoryId, trajectoryView } from './trainer-views.ts';
import { sequenceLogprobs, grpoUpdate, type UpdateSequence } from './update.ts';

export interface TrainerInit {
  config: TrainConfig;
  backend: Backend;
  tokenizer: PolicyTokenizer;
  questions: SplitQuestions;
  /** The policy being trained (the warm start loaded into it). */
  policy: Transformer;
  /** The frozen warm-start model (KL reference); never updated. */
  reference: Transformer;
  retriever: PassageRetriever;
  /** Needed when config.judge is 'external' (externalJudge({url, model, ...})). */
  externalJudge?: ProcessJudge;
  onEvent?: (e: TrainerEvent) => void;
}

/** One trajectory of the step: its rollout, view and lineage. */
interface Traj {
  id: string;
  slot: number;
  rollout: Rollout;
  view: TrajectoryView;
  revision: number;
  parentId: string | null;
  cut: number | null;
  score: RolloutScore | null;
}

/** Everything the current step holds between phases. */
interface StepState {
  step: number;
  questions: SplitQuestion[];
  trajs: Map<string, Traj>;
  /** Current trajectory id of each slot q * G + g. */
  current: string[];
  originals: string[];
  round: number;
  /** Trajectories to judge in the current round. */
  toJudge: string[];
  rejected: string[];
  cuts: Map<string, number>;
  /** First-round rejections (for the selection metrics). */
  rejectedFirst: Set<string>;
  judgeRecords: RefinerDecisionRecord[];
  trimRecords: RefinerDecisionRecord[];
  revisions: { parent: string; child: string; cut: number }[];
  events: PhaseEvent[];
  phaseSeconds: Partial<Record<Phase, number>>;
  tokensGenerated: number;
  advantages: AdvantageView[];
  judgeFallback: string | null;
  next: Phase;
  t0: number;
}

const now = (): number => performance.now();

/** The Meta-Refiner modules, loaded on first use (presets without the refiner never load them). */
async function refinerModules(): Promise<{
  disc: typeof import('../refiner/discriminator.ts');
  trim: typeof import('../refiner/trimmer.ts');
  regen: typeof import('../refiner/regenerate.ts');
  probe: typeof import('../refiner/probe.ts');
  joint: typeof import('../refiner/joint.ts');
}> {
  const [disc, trim, regen, probe, joint] = await Promise.all([
    import('../refiner/discriminator.ts'),
    import('../refiner/trimmer.ts'),
    import('../refiner/regenerate.ts'),
    import('../refiner/probe.ts'),
    import('../refiner/joint.ts'),
  ]);
  return { disc, trim, regen, probe, joint };
}

export class Trainer {
  readonly config: ResolvedConfig;
  readonly backend: Backend;
  readonly tokenizer: PolicyTokenizer;
  readonly policy: Transformer;
  readonly reference: Transformer;
  readonly retriever: PassageRetriever;
  readonly optimizer: AdamW;
  readonly pool: SplitQuestion[];
  /** With questionBalance: the pool by relation chain (keys sorted) and the cumulative chance of each chain. */
  readonly chains: { keys: string[]; groups: SplitQuestion[][]; cumulative: number[] } | null = null;
  readonly metrics: StepMetrics[] = [];
  /** Steps completed. */
  stepsDone = 0;
  private decoder: KvDecoder | null = null;
  private state: StepState | null = null;
  private readonly judge: ProcessJudge;
  private readonly goldJudge = goldEvidenceJudge();
  private readonly onEvent: (e: TrainerEvent) => void;
  readonly questions: SplitQuestions;

  constructor(init: TrainerInit) {
    this.config = resolveConfig(init.config);
    this.backend = init.backend;
    this.tokenizer = init.tokenizer;
    this.policy = init.policy;
    this.reference = init.reference;
    this.retriever = init.retriever;
    this.questions = init.questions;
    this.onEvent = init.onEvent ?? ((): void => {});
    if (this.policy.config.vocab !== this.tokenizer.size)
      throw new Error(`Trainer: the policy has ${this.policy.config.vocab} ids, the tokenizer ${this.tokenizer.size}`);
    if (this.config.judge === 'external') {
      if (!init.externalJudge) throw new Error("Trainer: TrainConfig.judge is 'external' but no external judge was configured (url, model)");
      this.judge = init.externalJudge;
    } else this.judge = this.config.judge === 'answer-containment' ? answerContainmentJudge() : this.goldJudge;
    const pool: SplitQuestion[] = TRAINING_SPLITS.flatMap((s) => init.questions[s].train.map((q) => ({ ...q, split: s })));
    if (pool.length === 0) throw new Error('Trainer: the world has no training questions (nq/train, hotpotqa/train)');
    const ordered = shuffle(stream(this.config.seeds.data, 'train-pool'), pool); // pool is our own copy
    this.pool = this.config.trainSubset ? ordered.slice(0, this.config.trainSubset) : ordered;
    const alpha = this.config.questionBalance;
    if (alpha !== undefined) {
      const groups = groupBy(this.pool, (q) => relationChainKey(q.split, q));
      this.chains = { keys: groups.map((g) => g.key), groups: groups.map((g) => g.items), cumulative: temperedCumulative(groups.map((g) => g.items.length), alpha) };
    }
    this.optimizer = new AdamW(this.backend.ops, this.policy.params, { lr: this.config.lr, weightDecay: 0 });
  }

  /** The rollout decoder (created on first use; slots = questions x group, at most 48). */
  async getDecoder(): Promise<KvDecoder> {
    if (!this.decoder) {
      const slots = Math.min(48, this.config.questionsPerStep * this.config.groupSize);
      this.decoder = await KvDecoder.create(this.policy, { slots, weights: this.config.rolloutWeights });
    }
    return this.decoder;
  }

  /** After the weights changed outside an update (a loaded run): re-take the int8 copy. */
  async weightsChanged(): Promise<void> {
    if (this.decoder && this.decoder.weights === 'int8') await this.decoder.refreshInt8();
  }

  /** The training questions of step s (1-based): a function of the step and the data seed alone (resume-safe). */
  questionsOf(step: number): SplitQuestion[] {
    const Q = this.config.questionsPerStep;
    if (this.chains) {
      const { groups, cumulative } = this.chains;
      const rng = stream(this.config.seeds.data, `balanced:${step}`);
      return Array.from({ length: Q }, () => {
        const g = groups[pickGroup(cumulative, rng.next())];
        return g[rng.int(g.length)];
      });
    }
    const N = this.pool.length;
    const out: SplitQuestion[] = [];
    const orders = new Map<number, SplitQuestion[]>();
    for (let j = 0; j < Q; j++) {
      const pos = (step - 1) * Q + j;
      const epoch = Math.floor(pos / N);
      let order = orders.get(epoch);
      if (!order) {
        order = shuffle(stream(this.config.seeds.data, `epoch:${epoch}`), [...this.pool]); // shuffle() works in place
        orders.set(epoch, order);
      }
      out.push(order[pos % N]);
    }
    return out;
  }

  nextPhase(): Phase {
    return this.state?.next ?? 'rollout';
  }

  /** Runs one phase of the current step (starting a new step when none is open). */
  async runPhase(): Promise<PhaseEvent> {
    const phase = this.nextPhase();
    const t = now();
    let ev: PhaseEvent;
    switch (phase) {
      case 'rollout':
        ev = await this.phaseRollout();
        break;
      case 'judge':
        ev = await this.phaseJudge();
        break;
      case 'trim':
        ev = await this.phaseTrim();
        break;
      case 'regenerate':
        ev = await this.phaseRegenerate();
        break;
      case 'reward':
        ev = await this.phaseReward();
        break;
      case 'advantage':
        ev = this.phaseAdvantage();
        break;
      case 'update':
        ev = await this.phaseUpdate();
        break;
    }
    const st = this.mustState();
    const seconds = (now() - t) / 1000;
    // A snapshot: later phases fill in the trainer's own objects (step labels, per-token losses), and an event
    // shows what its phase produced, in the CLI's records as in the worker's cloned messages.
    ev = structuredClone(ev);
    ev.seconds = seconds;
    st.phaseSeconds[phase] = (st.phaseSeconds[phase] ?? 0) + seconds;
    st.events.push(ev);
    this.onEvent(ev);
    if (phase === 'update') {
      this.finishStep();
      const m = this.metrics[this.metrics.length - 1];
      if (this.config.evalEvery > 0 && m.step % this.config.evalEvery === 0) m.devEm = await this.evaluateDev();
      this.onEvent({ type: 'step', step: m.step, metrics: m }); // after the evaluation, so devEm travels with it
    }
    return ev;
  }

  private lastRecord: StepRecord | null = null;

  /** Runs every remaining phase of the current step (a whole step when none is open). */
  async step(): Promise<StepRecord> {
    do await this.runPhase();
    while (this.state !== null);
    if (!this.lastRecord) throw new Error('Trainer.step: no record');
    return this.lastRecord;
  }

  private mustState(): StepState {
    if (!this.state) throw new Error('Trainer: no step in progress');
    return this.state;
  }

  private rolloutOptions(seed: number, groupSize: number): RolloutOptions {
    return {
      groupSize,
      seed,
      temperature: this.config.temperature,
      topK: this.config.topK,
      maxTurnTokens: this.config.maxTurnTokens,
    };
  }

  private addTraj(st: StepState, slot: number, r: Rollout, revision: number, parentId: string | null, cut: number | null): Traj {
    const id = trajectoryId(r.questionId, slot % this.config.groupSize, revision);
    const view = trajectoryView(this.tokenizer, r, { id, group: slot % this.config.groupSize, revision, parentId, keptSteps: cut });
    const t: Traj = { id, slot, rollout: r, view, revision, parentId, cut, score: null };
    st.trajs.set(id, t);
    let gen = 0;
    for (let i = 0; i < r.mask.length; i++) gen += r.mask[i];
    st.tokensGenerated += gen;
    return t;
  }

  // ---- phases ----

  private async phaseRollout(): Promise<PhaseEvent> {
    const step = this.stepsDone + 1;
    const questions = this.questionsOf(step);
    const st: StepState = {
      step, questions, trajs: new Map(), current: [], originals: [], round: 1, toJudge: [], rejected: [], cuts: new Map(),
      rejectedFirst: new Set(), judgeRecords: [], trimRecords: [], revisions: [], events: [], phaseSeconds: {},
      tokensGenerated: 0, advantages: [], judgeFallback: null, next: 'judge', t0: now(),
    };
    this.state = st;
    const G = this.config.groupSize;
    const dec = await this.getDecoder();
    const res = await rollout(dec, this.tokenizer, this.retriever, questions.map((q) => ({ id: q.id, question: q.question })),
      { ...this.rolloutOptions(streamSeed(this.config.seeds.sampling, `rollout:${step}`), G), onProgress: (done, total) => this.onEvent({ type: 'progress', what: 'rollout', done, total }) });
    res.rollouts.forEach((r, i) => {
      const t = this.addTraj(st, i, r, 0, null, null);
      st.current.push(t.id);
      st.originals.push(t.id);
    });
    st.toJudge = [...st.current];
    return { type: 'phase', step, phase: 'rollout', seconds: 0, questions: questions.map(questionView), trajectories: st.originals.map((id) => this.traj(st, id).view) };
  }

  private traj(st: StepState, id: string): Traj {
    const t = st.trajs.get(id);
    if (!t) throw new Error(`Trainer: unknown trajectory ${id}`);
    return t;
  }

  private questionOf(st: StepState, t: Traj): SplitQuestion {
    return st.questions[Math.floor(t.slot / this.config.groupSize)];
  }

  private async phaseJudge(): Promise<PhaseEvent> {
    const st = this.mustState();
    st.next = 'trim';
    st.rejected = [];
    if (!this.config.refiner) return { type: 'phase', step: st.step, phase: 'judge', seconds: 0, decisions: [], skipped: true };
    const items = st.toJudge.map((id) => this.traj(st, id));
    const { disc } = await refinerModules();
    const judged = await disc.judgeTrajectories(this.backend.ops, this.policy, this.tokenizer, items.map((t) => ({ question: this.questionOf(st, t).question, response: t.rollout.response })));
    const rng = new Rng(streamSeed(this.config.seeds.sampling, `judge:${st.step}:${st.round}`));
    const decisions: JudgeDecision[] = items.map((t, i) => {
      const j = judged[i];
      const d = disc.decide(j.alpha, { rng });
      if (!d.accept) {
        st.rejected.push(t.id);
        if (st.round === 1) st.rejectedFirst.add(t.id);
      }
      st.judgeRecords.push({ kind: 'judge', trajectoryId: t.id, ids: j.ids, choice: d.accept ? 'accept' : 'reject', logprob: d.accept ? j.logprobAccept : j.logprobReject, round: st.round });
      return { trajectoryId: t.id, alpha: j.alpha, accept: d.accept, draw: d.draw, round: st.round };
    });
    // Round 1 always shows trim and regenerate (empty when nothing was rejected); later rounds only when needed.
    if (st.rejected.length === 0 && st.round > 1) st.next = 'reward';
    return { type: 'phase', step: st.step, phase: 'judge', seconds: 0, decisions, skipped: false };
  }

  private async phaseTrim(): Promise<PhaseEvent> {
    const st = this.mustState();
    st.next = 'regenerate';
    st.cuts.clear();
    if (!this.config.refiner) return { type: 'phase', step: st.step, phase: 'trim', seconds: 0, decisions: [], skipped: true };
    const items = st.rejected.map((id) => this.traj(st, id));
    const { trim } = await refinerModules();
    const trimmed = items.length === 0 ? [] : await trim.trimTrajectories(this.backend.ops, this.policy, this.tokenizer, items.map((t) => ({ question: this.questionOf(st, t).question, response: t.rollout.response })));
    const rng = new Rng(streamSeed(this.config.seeds.sampling, `trim:${st.step}:${st.round}`));
    const decisions: TrimDecision[] = items.map((t, i) => {
      const tr = trimmed[i];
      const cut = trim.chooseCut(tr.probs, { rng });
      st.cuts.set(t.id, cut);
      st.trimRecords.push({ kind: 'trim', trajectoryId: t.id, ids: tr.ids, choice: cut, logprob: tr.logprobs[cut], round: st.round });
      return { trajectoryId: t.id, probs: [...tr.probs], cut, round: st.round };
    });
    return { type: 'phase', step: st.step, phase: 'trim', seconds: 0, decisions, skipped: false };
  }

  private async phaseRegenerate(): Promise<PhaseEvent> {
    const st = this.mustState();
    st.next = 'reward';
    if (!this.config.refiner) return { type: 'phase', step: st.step, phase: 'regenerate', seconds: 0, regenerations: [], trajectories: [], probes: [], skipped: true };
    const parents = st.rejected.map((id) => this.traj(st, id));
    const { regen, probe } = await refinerModules();
    const dec = await this.getDecoder();
    return this.regenerateWith(st, dec, parents, regen, probe);
  }

  private async regenerateWith(
    st: StepState,
    dec: KvDecoder,
    parents: Traj[],
    regen: typeof import('../refiner/regenerate.ts'),
    probe: typeof import('../refiner/probe.ts'),
  ): Promise<PhaseEvent> {
    const items = parents.map((t) => ({ rollout: t.rollout, cut: st.cuts.get(t.id) ?? 0, revision: t.revision + 1 }));
    const regenerated = items.length === 0 ? [] : await regen.regenerate(dec, this.tokenizer, this.retriever, items, this.rolloutOptions(streamSeed(this.config.seeds.sampling, `regen:${st.step}:${st.round}`), 1));
    const regenerations: Regeneration[] = [];
    const views: TrajectoryView[] = [];
    const children: string[] = [];
    parents.forEach((p, i) => {
      const cut = items[i].cut;
      const c = this.addTraj(st, p.slot, regenerated[i], p.revision + 1, p.id, cut);
      // Policy tokens of the kept prefix were sampled by the parent's rollout, not now.
      const kept = regen.cutRollout(p.rollout, cut, this.tokenizer);
      const keptLen = regen.keptTokenCount(p.rollout, cut, this.tokenizer);
      for (let k = 0; k < keptLen && k < c.rollout.mask.length; k++) st.tokensGenerated -= c.rollout.mask[k];
      st.current[p.slot] = c.id;
      st.revisions.push({ parent: p.id, child: c.id, cut });
      regenerations.push({ originalId: p.id, regeneratedId: c.id, cut, keptText: kept.keptText, discardedText: kept.discardedText, round: st.round });
      views.push(c.view);
      children.push(c.id);
    });
    const probes: ProbeView[] = [];
    if (this.config.probeSamples > 0)
      for (const p of parents) {
        const q = this.questionOf(st, p);
        const pr = await probe.probeCuts(dec, this.tokenizer, this.retriever, p.rollout, async (r: Rollout) => (await this.score(q, r)).reward, {
          ...this.rolloutOptions(streamSeed(this.config.seeds.sampling, `probe:${st.step}:${p.id}`), 1),
          samples: this.config.probeSamples,
        });
        probes.push({ trajectoryId: p.id, originalReward: pr.originalReward, gains: [...pr.gains], samples: pr.samples });
      }
    if (st.round < this.config.revisionLimit && children.length > 0) {
      st.round++;
      st.toJudge = children;
      st.next = 'judge';
    }
    return { type: 'phase', step: st.step, phase: 'regenerate', seconds: 0, regenerations, trajectories: views, probes, skipped: false };
  }

  private async score(q: SplitQuestion, r: Rollout): Promise<RolloutScore & { fallback: string | null }> {
    const searches = r.searches.map((s) => ({ query: s.query, passages: s.passages }));
    const jq = { golden_answers: q.golden_answers, supporting_ids: q.supporting_ids, question: q.question };
    const j = this.judge === this.goldJudge ? { labels: await this.goldJudge.label(jq, searches), fallbackReason: null } : await judgeWithFallback(this.judge, this.goldJudge, jq, searches);
    return { ...scoreFromLabels(r.answer, jq, j.labels, this.config.reward), fallback: j.fallbackReason };
  }

  private async phaseReward(): Promise<PhaseEvent> {
    const st = this.mustState();
    st.next = 'advantage';
    const rewards: RewardView[] = [];
    const fallbacks: string[] = [];
    for (const t of st.trajs.values()) {
      const s = await this.score(this.questionOf(st, t), t.rollout);
      if (s.fallback) fallbacks.push(`${t.id}: ${s.fallback}`);
      t.score = s;
      t.view.steps.forEach((v, i) => (v.label = s.labels[i] ?? null));
    }
    for (const t of st.trajs.values()) {
      const orig = this.traj(st, st.originals[t.slot]);
      const sc = t.score as RolloutScore;
      rewards.push({ trajectoryId: t.id, em: sc.em, f1: sc.f1, labels: [...sc.labels], process: sc.process, reward: sc.reward, originalReward: (orig.score as RolloutScore).reward });
    }
    st.judgeFallback = fallbacks.length > 0 ? `${fallbacks.length} trajectories fell back to the gold judge: ${fallbacks[0]}` : null;
    return { type: 'phase', step: st.step, phase: 'reward', seconds: 0, rewards, ...(st.judgeFallback ? { judgeFallback: st.judgeFallback } : {}) };
  }

  private phaseAdvantage(): PhaseEvent {
    const st = this.mustState();
    st.next = 'update';
    const G = this.config.groupSize;
    const finals = st.current.map((id) => this.traj(st, id));
    const rewards = finals.map((t) => (t.score as RolloutScore).reward);
    const adv = grpoAdvantages(rewards, G, { scaleByStd: this.config.aggregation !== 'dr-grpo' });
    st.advantages = finals.map((t, i) => ({ trajectoryId: t.id, advantage: adv[i], tokenAdvantages: perPolicyToken(t.rollout.mask, adv[i]), tokenLoss: [] }));
    const groups: GroupView[] = st.questions.map((q, qi) => {
      const fs = finals.slice(qi * G, qi * G + G);
      const used = rewards.slice(qi * G, qi * G + G);
      const m = used.reduce((a, b) => a + b, 0) / G;
      const sd = Math.sqrt(used.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, G - 1));
      return {
        question: questionView(q),
        finalIds: fs.map((t) => t.id),
        emRewards: fs.map((t) => (t.score as RolloutScore).em),
        hybridRewards: fs.map((t) => {
          const s = t.score as RolloutScore;
          return s.em * (1 + s.process);
        }),
        mean: m,
        std: sd,
      };
    });
    return { type: 'phase', step: st.step, phase: 'advantage', seconds: 0, groups, advantages: st.advantages };
  }

  private async phaseUpdate(): Promise<PhaseEvent> {
    const st = this.mustState();
    const ops = this.backend.ops;
    const finals = st.current.map((id) => this.traj(st, id));
    const seqIn = finals.map((t) => ({ ids: concatIds(t.rollout.promptIds, t.rollout.ids), promptLength: t.rollout.promptIds.length }));
    const T = this.config.temperature;
    // Old log-probs: left out, so grpoUpdate takes them from its fp32 forward under the current weights (on-policy).
    // Reference log-probs only where the loss reads them (the policy's tokens, not the observations).
    const ref = await sequenceLogprobs(ops, this.reference, seqIn.map((s, i) => ({ ...s, mask: finals[i].rollout.mask })), { temperature: T, entropy: false });
    const seqs: UpdateSequence[] = finals.map((t, i) => ({
      ...seqIn[i],
      mask: t.rollout.mask,
      refLogprobs: ref.logprobs[i],
      advantage: st.advantages[i].advantage,
    }));
    let judgeLoss: number | null = null;
    let trimLoss: number | null = null;
    if (this.config.trainRefiner) {
      const rewardOf = (id: string): number => (this.traj(st, id).score as RolloutScore).reward;
      const finalOfSlot = (id: string): number => rewardOf(st.current[this.traj(st, id).slot]);
      const childOf = new Map(st.revisions.map((r) => [r.parent, r.child]));
      const { joint } = await refinerModules();
      const extra = await joint.refinerSequences(ops, this.reference, {
        judge: st.judgeRecords,
        trim: st.trimRecords,
        rewardOf,
        finalRewardOf: finalOfSlot,
        regeneratedOf: (id: string) => childOf.get(id) ?? null,
        interventionCost: this.config.interventionCost,
        judgeWeight: this.config.judgeLossWeight,
        trimWeight: this.config.trimLossWeight,
      });
      seqs.push(...extra);
    }
    const grpo = {
      clipLow: this.config.clipLow,
      clipHigh: this.config.clipHigh,
      klBeta: this.config.klBeta,
      aggregation: this.config.aggregation,
    };
    const r = await grpoUpdate(ops, this.policy, this.optimizer, seqs, grpo, {
      miniBatches: this.config.miniBatches,
      maxGradNorm: this.config.maxGradNorm > 0 ? this.config.maxGradNorm : Infinity,
      temperature: T,
    });
    if (this.config.trainRefiner) {
      judgeLoss = r.byRole.judge?.policyLoss ?? null;
      trimLoss = r.byRole.trim?.policyLoss ?? null;
    }
    st.advantages.forEach((a, i) => (a.tokenLoss = Array.from(r.tokenLoss[i] ?? [])));
    if (this.decoder && this.decoder.weights === 'int8') await this.decoder.refreshInt8();
    const stats: UpdateStats = {
      policyLoss: r.policyLoss, klLoss: r.klLoss, clipFraction: r.clipFraction, entropy: r.entropy, kl: r.kl, gradNorm: r.gradNorm,
      klByRole: Object.fromEntries(Object.entries(r.byRole).map(([role, b]) => [role, b.tokens > 0 ? b.klSum / b.tokens : 0])),
      judgeLoss, trimLoss, tokens: r.tokens, lr: this.config.lr,
    };
    return { type: 'phase', step: st.step, phase: 'update', seconds: 0, stats, advantages: st.advantages };
  }

  private finishStep(): void {
    const st = this.mustState();
    const upd = st.events.findLast((e) => e.phase === 'update');
    if (!upd || upd.phase !== 'update') throw new Error('Trainer: step without update');
    const revisions: RevisionOutcome[] = st.revisions.map((r) => ({
      cut: r.cut,
      gain: (this.traj(st, r.child).score as RolloutScore).reward - (this.traj(st, r.parent).score as RolloutScore).reward,
    }));
    const metrics = stepMetrics({
      step: st.step,
      preset: this.config.preset,
      originals: st.originals.map((id) => {
        const s = this.traj(st, id).score as RolloutScore;
        return { reward: s.reward, em: s.em, rejected: st.rejectedFirst.has(id) };
      }),
      revisions,
      finals: st.current.map((id) => {
        const t = this.traj(st, id);
        const s = t.score as RolloutScore;
        return { em: s.em, f1: s.f1, reward: s.reward, searches: t.rollout.searches.length, valid: t.rollout.trajectory.valid };
      }),
      tokensGenerated: st.tokensGenerated,
      update: upd.stats,
      seconds: (now() - st.t0) / 1000,
      phaseSeconds: st.phaseSeconds,
    });
    this.metrics.push(metrics);
    this.stepsDone = st.step;
    this.lastRecord = { step: st.step, events: st.events, metrics };
    this.state = null;
  }

  /** Greedy Actor-alone EM on the dev parts (evalLimit questions per split); emits one 'eval' event per split. */
  async evaluateDev(part: 'dev' | 'test' = 'dev', limit = this.config.evalLimit): Promise<Record<string, number>> {
    const r = await evaluatePolicy(
      { backend: this.backend, policy: this.policy, tokenizer: this.tokenizer, retriever: this.retriever },
      this.questions,
      { part, limit, topK: this.config.topK, maxTurnTokens: this.config.maxTurnTokens, weights: this.config.rolloutWeights },
    );
    const out: Record<string, number> = {};
    for (const e of Object.values(r.splits)) {
      if (!e) continue;
      out[e.split] = e.em;
      this.onEvent({ type: 'eval', step: this.stepsDone, split: e.split, em: e.em, f1: e.f1, formatValid: e.formatValid, searches: e.searches, n: e.n });
    }
    return out;
  }

  /** Drops an open step (its phases are recomputed from the step's seeds when it runs again). */
  abortStep(): void {
    this.state = null;
  }

  dispose(): void {
    this.decoder?.dispose();
    this.decoder = null;
    this.optimizer.dispose();
  }
}

function concatIds(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
