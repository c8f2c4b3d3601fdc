// Batching for the SFT warm start (src/agent/sft-train.ts): a seeded sampler that mixes the three roles of the
// shared policy (DESIGN 4.2: Actor, Discriminator, Trimmer) and packs examples of similar length into batches under
// a token budget, and the padded tensors of one batch (ids, key lengths, the loss rows with their targets and
// weights).
//
// Sampling, round by round: a round draws `roundExamples` examples, each role's share given by `mix` (largest
// remainder, so the counts are exact), each role from its own seeded queue (a fresh shuffle per pass over that
// role's examples); the round is sorted by length (longest first) and cut greedily into batches whose padded size
// batch x longest stays within `tokenBudget` (a longer example goes alone); the round's batches are shuffled.
// With `balance` the Actor (DAgger recovery examples included), judge and trim draws go through groups (the
// question's relation chain, balance.ts): a role first picks a group with probability ~ its example count ^ alpha,
// then takes that group's next example (a fresh shuffle per pass over the group).
// One batch is one optimizer step. Judge and trim prompts are long (~500-1700 tokens) and carry one loss token
// each, so their share of examples is set lower than the Actor's (see the CLI defaults).
//
// Loss rows: position i of example b predicts ids[i+1] where mask[i+1] = 1; its weight is the role's weight
// (actor 1, judge/trim `decisionWeight`) divided by the batch's total weight, so the batch loss is a weighted token
// mean and padding never reaches it (padded positions get no row and are masked as keys).
import { Rng } from '../engine/rng.ts';
import { groupBy, shuffle, streamSeed } from '../world/random.ts';
import { pickGroup, temperedCumulative } from './balance.ts';
import type { SftExample, SftRole, TaskRole } from './sft-data.ts';

export const SFT_ROLES: readonly SftRole[] = ['actor', 'judge', 'trim', 'corpus'];

/** Shares of examples per role; corpus LM examples (corpus-lm.ts) only when `corpus` is given and > 0. */
export type RoleMix = Readonly<Record<TaskRole, number>> & { readonly corpus?: number };

/** Examples per role; `corpus` is optional. */
export type RoleData = Readonly<Record<TaskRole, readonly SftExample[]>> & { readonly corpus?: readonly SftExample[] };

export interface SftBatch {
  examples: SftExample[];
  /** Padded length (the longest example). */
  t: number;
  /** Right-padded ids [batch * t] (pad id after each example). */
  ids: Int32Array;
  keyLengths: Int32Array;
  /** Positions (b * t + i) that get logits, with their next-token targets and loss weights (sum 1). */
  rows: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
  /** The role of each row. */
  rowRoles: SftRole[];
  /** Real (unpadded) tokens of the batch. */
  tokens: number;
}

/** Loss rows of one example: positions i with mask[i+1] = 1 (the token at i+1 is trained). */
export function lossPositions(x: SftExample): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < x.ids.length; i++) if (x.mask[i + 1] === 1) out.push(i);
  return out;
}

/** Actor target tokens weighted apart from the others (e.g. the format tags). */
export interface TokenWeight {
  ids: ReadonlySet<number>;
  weight: number;
}

/**
 * The tensors of one batch (see the header). `decisionWeight` is the loss weight of a judge/trim token; `tagWeight`,
 * when given, that of an Actor target token in `tagWeight.ids` (the others weigh 1).
 */
export function makeBatch(examples: readonly SftExample[], padId: number, decisionWeight: number, tagWeight?: TokenWeight): SftBatch {
  if (examples.length === 0) throw new Error('makeBatch: no examples');
  if (!(decisionWeight > 0)) throw new Error(`makeBatch: decisionWeight must be > 0, got ${decisionWeight}`);
  if (tagWeight && !(tagWeight.weight > 0)) throw new Error(`makeBatch: the tag weight must be > 0, got ${tagWeight.weight}`);
  const t = Math.max(...examples.map((x) => x.ids.length));
  const B = examples.length;
  const ids = new Int32Array(B * t).fill(padId);
  const keyLengths = new Int32Array(B);
  const rows: number[] = [];
  const targets: number[] = [];
  const w: number[] = [];
  const rowRoles: SftRole[] = [];
  let tokens = 0;
  examples.forEach((x, b) => {
    if (x.ids.length !== x.mask.length) throw new Error(`makeBatch: example ${x.role}:${x.questionId} has ${x.ids.length} ids and ${x.mask.length} mask entries`);
    ids.set(x.ids, b * t);
    keyLengths[b] = x.ids.length;
    tokens += x.ids.length;
    const rw = x.role === 'actor' || x.role === 'corpus' ? 1 : decisionWeight;
    for (const i of lossPositions(x)) {
      rows.push(b * t + i);
      targets.push(x.ids[i + 1]);
      w.push(x.role === 'actor' && tagWeight?.ids.has(x.ids[i + 1]) ? tagWeight.weight : rw);
      rowRoles.push(x.role);
    }
  });
  if (rows.length === 0) throw new Error('makeBatch: the batch has no loss token (every mask is 0)');
  const total = w.reduce((a, b) => a + b, 0);
  return {
    examples: [...examples],
    t,
    ids,
    keyLengths,
    rows: Int32Array.from(rows),
    targets: Int32Array.from(targets),
    weights: Float32Array.from(w, (x) => x / total),
    rowRoles,
    tokens,
  };
}

/** Exact per-role counts of `n` draws with shares `mix` (largest remainder; ties by role order). */
export function roleCounts(mix: RoleMix, n: number, available: Readonly<Record<TaskRole, number>> & { readonly corpus?: number }): Record<SftRole, number> {
  const share = (r: SftRole): number => mix[r] ?? 0;
  const roles = SFT_ROLES.filter((r) => share(r) > 0 && (available[r] ?? 0) > 0);
  const out: Record<SftRole, number> = { actor: 0, judge: 0, trim: 0, corpus: 0 };
  const total = roles.reduce((a, r) => a + share(r), 0);
  if (total <= 0) throw new Error('roleCounts: no role has both a positive share and examples');
  const raw = roles.map((r) => (n * share(r)) / total);
  let left = n;
  roles.forEach((r, i) => {
    out[r] = Math.floor(raw[i]);
    left -= out[r];
  });
  const order = roles.map((r, i) => ({ r, frac: raw[i] - Math.floor(raw[i]), i })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; k < left; k++) out[order[k % order.length].r]++;
  return out;
}

export interface SamplerOptions {
  seed: number;
  mix: RoleMix;
  /** Examples drawn per round (sorted and packed together). */
  roundExamples: number;
  /** Most padded tokens (batch x longest) per batch. */
  tokenBudget: number;
  /** Most examples per batch (default 64). */
  maxBatch?: number;
  /** Tempered group sampling for the actor, judge and trim roles (see the header); absent: plain passes. */
  balance?: { groupOf: (x: SftExample) => string; alpha: number };
}

/** One group's examples, drawn in seeded passes. */
interface GroupQueue {
  key: string;
  items: SftExample[];
  at: number;
  pass: number;
}

/** A role's groups and the cumulative probabilities a draw picks them with. */
interface Groups {
  /** Stream name: the role, or actor-extra:<n> for the DAgger examples after the n-th addActorExtra. */
  name: string;
  queues: GroupQueue[];
  cumulative: number[];
  rng: Rng;
  drawn: number;
}

/** An endless, seeded stream of batches of examples (see the header). */
export class SftSampler {
  private readonly queues: Record<SftRole, { items: SftExample[]; at: number; pass: number }>;
  private pending: SftExample[][] = [];
  /** Extra Actor examples (DAgger recovery, dagger.ts) drawn for `share` of the Actor's draws, from its own queue. */
  private extra: { items: SftExample[]; at: number; pass: number; share: number; groups: Groups | null } | null = null;
  private extraAdds = 0;
  private readonly rng: Rng;
  private round = 0;
  private readonly groups: Partial<Record<SftRole, Groups>> = {};

  constructor(
    data: RoleData,
    readonly opts: SamplerOptions,
  ) {
    if (!(opts.tokenBudget > 0)) throw new Error(`SftSampler: tokenBudget must be > 0, got ${opts.tokenBudget}`);
    if (!(opts.roundExamples >= 1)) throw new Error(`SftSampler: roundExamples must be >= 1, got ${opts.roundExamples}`);
    for (const r of SFT_ROLES) if (!((opts.mix[r] ?? 0) >= 0)) throw new Error(`SftSampler: mix.${r} must be >= 0, got ${opts.mix[r]}`);
    this.rng = new Rng(streamSeed(opts.seed, 'sft-train:rounds'));
    const q = (r: SftRole): { items: SftExample[]; at: number; pass: number } => ({ items: [...(data[r] ?? [])], at: 0, pass: 0 });
    this.queues = { actor: q('actor'), judge: q('judge'), trim: q('trim'), corpus: q('corpus') };
    for (const r of SFT_ROLES) this.reshuffle(r);
    const b = opts.balance;
    if (b) {
      if (!(b.alpha >= 0 && b.alpha <= 1)) throw new Error(`SftSampler: balance alpha must be in [0, 1], got ${b.alpha}`);
      for (const r of ['actor', 'judge', 'trim'] as const) {
        const g = this.makeGroups(r, this.queues[r].items);
        if (g) this.groups[r] = g;
      }
    }
  }

  /** The groups of `items` under opts.balance (null when there are no items); `name` keys their seeded streams. */
  private makeGroups(name: string, items: readonly SftExample[]): Groups | null {
    const b = this.opts.balance;
    if (!b || items.length === 0) return null;
    const queues = groupBy(items, b.groupOf).map((g) => ({ ...g, at: 0, pass: 0 }));
    const cumulative = temperedCumulative(queues.map((q) => q.items.length), b.alpha);
    for (const q of queues) this.reshuffleGroup(name, q);
    return { name, queues, cumulative, rng: new Rng(streamSeed(this.opts.seed, `sft-train:${name}:groups`)), drawn: 0 };
  }

  /** The next example of a group picked with the groups' probabilities. */
  private drawGrouped(g: Groups): SftExample {
    const q = g.queues[pickGroup(g.cumulative, g.rng.next())];
    if (q.at >= q.items.length) this.reshuffleGroup(g.name, q);
    g.drawn++;
    return q.items[q.at++];
  }

  private reshuffleGroup(name: string, q: GroupQueue): void {
    shuffle(new Rng(streamSeed(this.opts.seed, `sft-train:${name}:${q.key}:${q.pass}`)), q.items);
    q.at = 0;
    q.pass++;
  }

  /** Examples per group of a balanced role and the share of draws each gets (empty for a plain role). */
  groupShares(r: SftRole): { key: string; examples: number; share: number }[] {
    const g = this.groups[r];
    if (!g) return [];
    return g.queues.map((q, i) => ({ key: q.key, examples: q.items.length, share: g.cumulative[i] - (i > 0 ? g.cumulative[i - 1] : 0) }));
  }

  private reshuffle(r: SftRole): void {
    const qu = this.queues[r];
    shuffle(new Rng(streamSeed(this.opts.seed, `sft-train:${r}:${qu.pass}`)), qu.items);
    qu.at = 0;
    qu.pass++;
  }

  /**
   * From the next round on, `share` of each round's Actor draws come from `items` (rounded to the nearest count),
   * shuffled per pass with their own seeded stream. A later call adds its items to the earlier ones (DAgger
   * aggregates its rounds' data), sets the share, and starts a new pass over them all.
   */
  addActorExtra(items: readonly SftExample[], share: number): void {
    if (!(share >= 0 && share <= 1)) throw new Error(`SftSampler: the extra share must be in [0, 1], got ${share}`);
    if (items.some((x) => x.role !== 'actor')) throw new Error('SftSampler: extra examples must be Actor examples');
    const all = [...(this.extra?.items ?? []), ...items];
    this.extraAdds++;
    this.extra = all.length > 0 ? { items: all, at: 0, pass: this.extra?.pass ?? 0, share, groups: this.makeGroups(`actor-extra:${this.extraAdds}`, all) } : null;
    if (this.extra && !this.extra.groups) this.reshuffleExtra();
  }

  private reshuffleExtra(): void {
    const e = this.extra as NonNullable<SftSampler['extra']>;
    shuffle(new Rng(streamSeed(this.opts.seed, `sft-train:actor-extra:${e.pass}`)), e.items);
    e.at = 0;
    e.pass++;
  }

  private drawExtra(): SftExample {
    const e = this.extra as NonNullable<SftSampler['extra']>;
    if (e.groups) return this.drawGrouped(e.groups);
    if (e.at >= e.items.length) this.reshuffleExtra();
    return e.items[e.at++];
  }

  private draw(r: SftRole): SftExample {
    const g = this.groups[r];
    if (g) return this.drawGrouped(g);
    const qu = this.queues[r];
    if (qu.at >= qu.items.length) this.reshuffle(r);
    return qu.items[qu.at++];
  }

  /** Passes started over each role's examples (1 during the first). */
  passes(): Record<SftRole, number> {
    // A balanced role: draws over examples, as passes would count them (1 during the first |examples| draws).
    const pass = (r: SftRole): number => {
      const g = this.groups[r];
      return g ? Math.floor(Math.max(0, g.drawn - 1) / this.queues[r].items.length) + 1 : this.queues[r].pass;
    };
    return { actor: pass('actor'), judge: pass('judge'), trim: pass('trim'), corpus: pass('corpus') };
  }

  next(): SftExample[] {
    while (this.pending.length === 0) this.fill();
    return this.pending.shift() as SftExample[];
  }

  private fill(): void {
    const { mix, roundExamples, tokenBudget } = this.opts;
    const maxBatch = this.opts.maxBatch ?? 64;
    const avail = { actor: this.queues.actor.items.length, judge: this.queues.judge.items.length, trim: this.queues.trim.items.length, corpus: this.queues.corpus.items.length };
    const counts = roleCounts(mix, roundExamples, avail);
    const drawn: SftExample[] = [];
    const extra = this.extra ? Math.round(counts.actor * this.extra.share) : 0;
    for (let i = 0; i < extra; i++) drawn.push(this.drawExtra());
    counts.actor -= extra;
    for (const r of SFT_ROLES) for (let i = 0; i < counts[r]; i++) drawn.push(this.draw(r));
    drawn.sort((a, b) => b.ids.length - a.ids.length || a.role.localeCompare(b.role) || a.questionId.localeCompare(b.questionId));
    const batches: SftExample[][] = [];
    let cur: SftExample[] = [];
    for (const x of drawn) {
      // Sorted longest first, so the batch's padded length is its first example's.
      const t = cur.length > 0 ? cur[0].ids.length : x.ids.length;
      if (cur.length > 0 && ((cur.length + 1) * t > tokenBudget || cur.length >= maxBatch)) {
        batches.push(cur);
        cur = [];
      }
      cur.push(x);
    }
    if (cur.length > 0) batches.push(cur);
    this.pending = shuffle(this.rng, batches);
    this.round++;
  }
}
