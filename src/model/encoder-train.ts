// Contrastive training of the E5-style encoder on a world (E5's objective: InfoNCE with in-batch negatives).
// Platform-neutral (no file system): the CLI (src/cli/encoder.ts) reads the world and writes the files.
//
// Data, regenerated every epoch from the seed, as groups of one query and its positive passages:
//   - question groups: (query: question, passages: its supporting passages) from the TRAIN parts of the training
//     splits (nq, hotpotqa, as Search-R1); a two-hop question has both hops' passages as positives;
//   - corpus groups, so every passage of the corpus is seen: one pseudo-query per sentence per epoch for long
//     passages (6+ sentences: a country passage states a dozen facts), else 1 + floor((sentences - 1) / 3); each
//     is the title, the title plus a random span of one of its sentences, or such a span alone (unsupervised, as
//     E5's title/passage and cropping pairs); 20% of them name two passages (two titles and a span) and have both
//     as positives, as a comparison question does.
// Batches: up to B groups, formed from windows of 32 batches sorted by passage length and cut so that the passage
// side holds at most `tokenBudget` tokens (long passages come in smaller batches), then shuffled.
// Loss (InfoNCE with in-batch negatives): one row per (group, positive), -log softmax over the batch's passages of
// q . p / tau at the positive, weighted 1 / (groups x the group's positives); a passage two groups share is one
// column, a positive of both. Queries and passages are encoded by the same weights with their E5 prefixes.
// AdamW, linear warm-up then cosine decay to 10% of the peak learning rate.
// Everything (vocabulary, initialization, order, pseudo-queries) follows from the seed; on the cpu backend the
// run is bit-for-bit reproducible (its kernels do not depend on the thread count).
import { AdamW } from '../engine/optim.ts';
import { Rng } from '../engine/rng.ts';
import { Tape } from '../engine/tape.ts';
import type { Ops } from '../engine/types.ts';
import { WordPieceTokenizer } from '../text/wordpiece.ts';
import { trainWordPiece } from '../text/wordpiece-train.ts';
import { E5Encoder, PASSAGE_PREFIX, QUERY_PREFIX } from './e5.ts';
import { BertEncoder, ENCODER_PRESETS, ENCODER_TRAIN_STEPS, type EncoderConfig, type EncoderPreset } from './encoder.ts';

export interface TrainPassage {
  id: string;
  /** "\"Title\"\ntext", as corpus.jsonl. */
  contents: string;
}

export interface TrainQuestion {
  question: string;
  supporting_ids: readonly string[];
}

export interface EncoderTrainOptions {
  preset: EncoderPreset;
  seed: number;
  /** Optimizer steps (default: ENCODER_TRAIN_STEPS of the preset). */
  steps?: number;
  /** Query groups per batch (default 64). */
  batchSize?: number;
  /** Passage tokens per batch at most (columns x longest passage; default 6144): long passages, smaller batches. */
  tokenBudget?: number;
  /**
   * Positives of a multi-hop training question: 'named' (default) keeps the supporting passages whose title the
   * question names (all of them when it names none): the other hop of a held-out entity cannot be inferred from
   * the question, and training toward it pulls queries to hub passages (the few countries); 'all' keeps every one.
   */
  questionPositives?: 'named' | 'all';
  /** Share of corpus pseudo-queries that name two passages (default 0.2). */
  pairShare?: number;
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Warm-up steps (default 5% of the steps). */
  warmup?: number;
  /** Softmax temperature (default 0.05). */
  tau?: number;
  weightDecay?: number;
  /** WordPiece vocabulary size (default: the preset's vocab). */
  vocabSize?: number;
  /** Tokens per query, [CLS] and [SEP] included (default min(32, maxLen)). */
  queryMaxLen?: number;
  /** Overrides of the preset's shape. */
  config?: Partial<Omit<EncoderConfig, 'vocab'>>;
  /** A log entry every `logEvery` steps (default 25) and at the end. */
  logEvery?: number;
  onLog?: (entry: TrainLogEntry) => void;
  /** Free-form progress lines (vocabulary, data). */
  onInfo?: (line: string) => void;
}

export interface TrainLogEntry {
  step: number;
  epoch: number;
  /** Mean InfoNCE loss over the steps since the last entry. */
  loss: number;
  /** Share of queries whose own passage scored highest in the batch, same window. */
  in_batch_acc: number;
  lr: number;
  seconds: number;
}

export interface EncoderTrainResult {
  encoder: E5Encoder;
  config: EncoderConfig;
  tokenizer: WordPieceTokenizer;
  log: TrainLogEntry[];
  pairs: { questions: number; corpus: number };
  steps: number;
  seconds: number;
}

/** Title and text of "\"Title\"\ntext" contents. */
export function splitContents(contents: string): { title: string; text: string } {
  const nl = contents.indexOf('\n');
  const head = nl < 0 ? contents : contents.slice(0, nl);
  const text = nl < 0 ? '' : contents.slice(nl + 1);
  const title = head.length >= 2 && head.startsWith('"') && head.endsWith('"') ? head.slice(1, -1) : head;
  return { title, text };
}

/** A passage's title without a trailing parenthetical ("Protaras" of "Protaras (Cyprus, 01)"). */
function bareTitle(contents: string): string {
  return splitContents(contents).title.replace(/\s*\([^)]*\)\s*$/, '');
}

/** Sentences of a passage's text (split after . ; ? !). */
function sentencesOf(text: string): string[] {
  return text.split(/(?<=[.;?!])\s+/).filter((s) => s.trim().length > 0);
}

/** A random span (2 words or more) of a sentence (random unless `which` is given), without "It"/"Its". */
function randomSpan(sentences: readonly string[], rng: Rng, which?: number): string {
  const words = sentences[which ?? rng.int(sentences.length)].replace(/[.;?!]$/, '').split(/\s+/);
  const len = 2 + rng.int(Math.max(1, words.length - 1));
  const start = rng.int(Math.max(1, words.length - len + 1));
  return words.slice(start, start + len).filter((w) => w !== 'It' && w !== 'Its').join(' ');
}

/**
 * A pseudo-query for a passage: the title, the title and a span of a sentence, or a span alone. `sentence` picks
 * the sentence (taken modulo the sentence count); random otherwise.
 */
export function pseudoQuery(contents: string, rng: Rng, sentence?: number): string {
  const { title, text } = splitContents(contents);
  const sentences = sentencesOf(text);
  const shortTitle = rng.next() < 0.5 ? title.replace(/\s*\([^)]*\)\s*$/, '') : title;
  const r = rng.next();
  if (r < 0.25 || sentences.length === 0) return shortTitle;
  const span = randomSpan(sentences, rng, sentence === undefined ? undefined : sentence % sentences.length);
  return r < 0.65 ? `${shortTitle} ${span}` : span || shortTitle;
}

/** Passages with at least this many sentences get one pseudo-query per sentence per epoch. */
const LONG_PASSAGE = 6;

/**
 * Pseudo-queries per passage per epoch: one per sentence for long passages (a country passage states a dozen
 * facts, each a question's answer), else one plus one per 3 further sentences.
 */
export function pseudoQueriesPerEpoch(contents: string): number {
  const n = sentencesOf(splitContents(contents).text).length;
  return n >= LONG_PASSAGE ? n : 1 + Math.floor(Math.max(0, n - 1) / 3);
}

/** One query with its positive passages (two for a two-entity pseudo-query or a multi-hop question). */
interface Group {
  query: string;
  positives: number[];
}

/** The passage kind of an id ("city" of "city:123"). */
const kindOf = (id: string): string => id.slice(0, Math.max(0, id.indexOf(':')));

/**
 * The groups of one epoch, in training order. Question groups have all their supporting passages as positives;
 * corpus groups one passage (several pseudo-queries for long passages) or, for `pairShare` of them, two passages
 * whose titles (and a span of one) make the query, as a comparison question names two entities.
 */
function epochGroups(
  passages: readonly TrainPassage[], qgroups: readonly Group[], rng: Rng, byKind: ReadonlyMap<string, number[]>, pairShare: number,
): Group[] {
  const groups: Group[] = qgroups.map((g) => ({ query: g.query, positives: [...g.positives] }));
  for (let i = 0; i < passages.length; i++) {
    const k = pseudoQueriesPerEpoch(passages[i].contents);
    // The sentences the spans come from: a random order, each once before any twice.
    const order = Array.from({ length: k }, (_, j) => j);
    for (let j = k - 1; j > 0; j--) {
      const x = rng.int(j + 1);
      [order[j], order[x]] = [order[x], order[j]];
    }
    for (let j = 0; j < k; j++) {
      if (rng.next() < pairShare) {
        const same = byKind.get(kindOf(passages[i].id)) ?? [];
        let other = rng.next() < 0.7 && same.length > 1 ? same[rng.int(same.length)] : rng.int(passages.length);
        if (other === i) other = (i + 1) % passages.length;
        const a = bareTitle(passages[i].contents);
        const b = bareTitle(passages[other].contents);
        const span = rng.next() < 0.5 ? randomSpan(sentencesOf(splitContents(passages[i].contents).text).concat([a]), rng) : '';
        const query = rng.next() < 0.5 ? `${a} ${span} ${b}` : `${span} ${b} ${a}`;
        groups.push({ query: query.replace(/\s+/g, ' ').trim(), positives: [i, other] });
      } else groups.push({ query: pseudoQuery(passages[i].contents, rng, order[j]), positives: [i] });
    }
  }
  for (let i = groups.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [groups[i], groups[j]] = [groups[j], groups[i]];
  }
  return groups;
}

/**
 * Splits groups into batches of at most `size` groups: within windows of 32 batches the groups are sorted by
 * passage length (less padding, and negatives of similar kind) and cut into batches whose passage side stays
 * within `tokenBudget` tokens (columns x longest passage, estimated from characters: long passages come in smaller
 * batches), and the batches are shuffled. A passage that two groups of a batch share is one column, a positive of
 * both (never a negative of a group it supports).
 */
function batches(groups: readonly Group[], size: number, rng: Rng, tokenBudget: number, tokensOf: (p: number) => number): Group[][] {
  const out: Group[][] = [];
  const windowSize = 32 * size;
  const maxTokens = (g: Group): number => g.positives.reduce((m, p) => Math.max(m, tokensOf(p)), 0);
  for (let w = 0; w < groups.length; w += windowSize) {
    const win = groups.slice(w, w + windowSize).sort((x, y) => maxTokens(x) - maxTokens(y));
    let cur: Group[] = [];
    let cols = 0;
    let t = 0;
    for (const g of win) {
      const gt = Math.max(t, maxTokens(g));
      if (cur.length > 0 && (cur.length === size || (cols + g.positives.length) * gt > tokenBudget)) {
        out.push(cur);
        cur = [];
        cols = 0;
      }
      cur.push(g);
      cols += g.positives.length;
      t = cur.length === 1 ? maxTokens(g) : Math.max(t, maxTokens(g));
    }
    if (cur.length >= 2) out.push(cur); // a last batch of one has no negatives: dropped
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Padded ids [rows, t] and lengths of texts, t = the longest. */
function pad(tok: WordPieceTokenizer, texts: readonly string[], maxLen: number): { ids: Int32Array; lengths: Int32Array; t: number } {
  const b = tok.encodeBatch(texts, maxLen);
  return { ids: b.ids, lengths: b.lengths, t: b.seqLen };
}

/** Trains the WordPiece vocabulary, then the encoder. */
export async function trainEncoder(
  ops: Ops, passages: readonly TrainPassage[], questions: readonly TrainQuestion[], opts: EncoderTrainOptions,
): Promise<EncoderTrainResult> {
  const t0 = performance.now();
  const info = opts.onInfo ?? (() => {});
  const preset = ENCODER_PRESETS[opts.preset];
  if (!preset) throw new Error(`trainEncoder: unknown preset "${String(opts.preset)}" (${Object.keys(ENCODER_PRESETS).join(', ')})`);
  if (passages.length < 2) throw new Error('trainEncoder: the corpus needs at least 2 passages');
  const B = opts.batchSize ?? 64;
  const tau = opts.tau ?? 0.05;
  const peak = opts.lr ?? 1e-3;

  // 1. Vocabulary: passages, training questions and E5's prefixes.
  const vocabSize = opts.vocabSize ?? preset.vocab;
  const texts = [...passages.map((p) => p.contents), ...questions.map((q) => q.question)];
  const wp = trainWordPiece(texts, { vocabSize, extraWords: [QUERY_PREFIX.trim(), PASSAGE_PREFIX.trim()] });
  const tokenizer = new WordPieceTokenizer(wp.tokens, {}, 'tokenizer.json');
  info(`vocabulary: ${wp.tokens.length} tokens (${wp.stats.alphabet} alphabet, ${wp.stats.merges} merges, stop: ${wp.stats.stop}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const config: EncoderConfig = { ...preset, ...opts.config, vocab: tokenizer.size };
  const qMax = Math.min(opts.queryMaxLen ?? 32, config.maxLen);

  // 2. Data.
  const index = new Map(passages.map((p, i) => [p.id, i]));
  const qgroups: Group[] = [];
  let missing = 0;
  const named = (opts.questionPositives ?? 'named') === 'named';
  for (const q of questions) {
    let positives = [...new Set(q.supporting_ids.map((id) => index.get(id)).filter((i): i is number => i !== undefined))];
    if (positives.length < new Set(q.supporting_ids).size) missing++;
    if (named && positives.length > 1) {
      const text = q.question.toLowerCase();
      const hit = positives.filter((p) => text.includes(bareTitle(passages[p].contents).toLowerCase()));
      if (hit.length > 0) positives = hit;
    }
    if (positives.length > 0) qgroups.push({ query: q.question, positives });
  }
  if (missing > 0) info(`warning: ${missing} questions name supporting passages that are not in the corpus`);
  const byKind = new Map<string, number[]>();
  passages.forEach((p, i) => {
    const k = kindOf(p.id);
    if (!byKind.has(k)) byKind.set(k, []);
    byKind.get(k)!.push(i);
  });
  const pairShare = opts.pairShare ?? 0.2;
  // Passage lengths in tokens (capped at maxLen), for batching by a token budget.
  const passageTokens = passages.map((p) => tokenizer.encode(PASSAGE_PREFIX + p.contents, config.maxLen).length);
  const tokenBudget = opts.tokenBudget ?? 96 * 64;
  const corpusGroups = passages.reduce((a, p) => a + pseudoQueriesPerEpoch(p.contents), 0);
  const rng = new Rng(opts.seed);
  const epochBatches = (): Group[][] => batches(epochGroups(passages, qgroups, rng, byKind, pairShare), B, rng, tokenBudget, (p) => passageTokens[p]);
  let queue = epochBatches();
  const stepsPerEpoch = queue.length;
  const steps = opts.steps ?? ENCODER_TRAIN_STEPS[opts.preset];
  if (!Number.isSafeInteger(steps) || steps < 1) throw new Error(`trainEncoder: steps must be a positive integer, got ${steps}`);
  const warmup = opts.warmup ?? Math.max(1, Math.round(steps * 0.05));
  info(`data: ${qgroups.length} question groups + ${corpusGroups} corpus groups per epoch (${Math.round(pairShare * 100)}% two-passage); batches of up to ${B} groups and ${tokenBudget} passage tokens, ${stepsPerEpoch} per epoch; ${steps} steps (~${(steps / stepsPerEpoch).toFixed(2)} epochs)`);

  // 3. Model and optimizer.
  const model = new BertEncoder(ops, config, opts.seed);
  info(`model: ${JSON.stringify(config)}; ${model.parameterCount} parameters`);
  const opt = new AdamW(ops, model.params, { lr: peak, weightDecay: opts.weightDecay ?? 0.01 });
  const lrAt = (s: number): number => {
    if (s < warmup) return (peak * (s + 1)) / warmup;
    const p = (s - warmup) / Math.max(1, steps - warmup);
    return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p)));
  };

  const log: TrainLogEntry[] = [];
  const logEvery = opts.logEvery ?? 25;
  let lossSum = 0;
  let accSum = 0;
  let win = 0;
  let epoch = 1;
  for (let step = 0; step < steps; step++) {
    if (queue.length === 0) {
      epoch++;
      queue = epochBatches();
    }
    const batch = queue.shift() as Group[];
    // Columns: the batch's passages; rows: one per (group, positive), the group's query embedding gathered.
    const cols: number[] = [];
    const colOf = new Map<number, number>();
    const rowQuery: number[] = [];
    const rowTarget: number[] = [];
    const rowWeight: number[] = [];
    batch.forEach((g, gi) => {
      for (const p of g.positives) {
        let c = colOf.get(p);
        if (c === undefined) {
          c = cols.length;
          colOf.set(p, c);
          cols.push(p);
        }
        rowQuery.push(gi);
        rowTarget.push(c);
        rowWeight.push(1 / (batch.length * g.positives.length));
      }
    });
    const rows = rowQuery.length;
    const q = pad(tokenizer, batch.map((g) => QUERY_PREFIX + g.query), qMax);
    const d = pad(tokenizer, cols.map((p) => PASSAGE_PREFIX + passages[p].contents), config.maxLen);
    const tape = new Tape(ops);
    const qv = model.forward(tape, q.ids, q.lengths, batch.length, q.t);
    const rowIdx = Int32Array.from(rowQuery);
    const rowIdxT = ops.tensor(rowIdx, [rows]);
    tape.adopt(rowIdxT);
    const qr = rows === batch.length ? qv : tape.embedding(qv, rowIdxT, rowIdx);
    const pv = model.forward(tape, d.ids, d.lengths, cols.length, d.t);
    const logits = tape.scale(tape.matmul(qr, pv, { transB: true }), 1 / tau);
    const targets = ops.tensor(Int32Array.from(rowTarget), [rows]);
    const weights = ops.tensor(Float32Array.from(rowWeight), [rows]);
    tape.adopt(targets, weights);
    const scores = await ops.readF32(logits.value);
    const loss = tape.nll(logits, targets, weights);
    const lossValue = (await ops.readF32(loss.value))[0];
    if (!Number.isFinite(lossValue)) throw new Error(`trainEncoder: the loss is ${lossValue} at step ${step + 1}`);
    // In-batch accuracy: the best-scoring passage of each row is one of its group's positives. (Another group's
    // positive that this group shares scores as a positive: the column is the same.)
    let correct = 0;
    const n = cols.length;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let j = 1; j < n; j++) if (scores[r * n + j] > scores[r * n + best]) best = j;
      if (batch[rowQuery[r]].positives.includes(cols[best])) correct++;
    }
    const accuracy = correct / rows;
    tape.backward(loss);
    opt.config.lr = lrAt(step);
    opt.update();
    tape.dispose();
    lossSum += lossValue;
    accSum += accuracy;
    win++;
    if ((step + 1) % logEvery === 0 || step + 1 === steps) {
      const e: TrainLogEntry = {
        step: step + 1,
        epoch,
        loss: Math.round((lossSum / win) * 1e4) / 1e4,
        in_batch_acc: Math.round((accSum / win) * 1e4) / 1e4,
        lr: Number(lrAt(step).toPrecision(4)),
        seconds: Math.round((performance.now() - t0) / 10) / 100,
      };
      log.push(e);
      opts.onLog?.(e);
      lossSum = 0;
      accSum = 0;
      win = 0;
    }
  }
  opt.dispose();
  for (const p of model.params) if (p.grad) {
    ops.dispose(p.grad);
    p.grad = null;
  }
  const encoder = new E5Encoder(`trained@seed${opts.seed}`, model, tokenizer);
  return {
    encoder,
    config,
    tokenizer,
    log,
    pairs: { questions: qgroups.length, corpus: corpusGroups },
    steps,
    seconds: (performance.now() - t0) / 1000,
  };
}
