// `eval`: a policy checkpoint on a world (DESIGN 9). Actor mode: greedy rollouts (temperature 0) over BM25 top-3 on
// a split's dev (or test) questions -> {split, em, f1, format_valid, searches, n, ...}; `--split all` prints a table
// on stderr and one JSON object with every split. `eval refiner`: Discriminator accuracy and Trimmer exact-cut
// accuracy on held-out labelled trajectories (the expert's and its flawed variants on the dev questions of nq and
// hotpotqa, which share no entity with a training question). See src/agent/eval.ts for the metrics.
// Defaults: the shipped checkpoint (public/policy/model.safetensors) and the default world (built in memory, seed 0).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActorEvalRow, evaluateActor, evaluateRefiner, noRetrieval } from '../agent/eval.ts';
import { createExpertContext } from '../agent/expert.ts';
import { bm25PassageRetriever } from '../agent/rollout.ts';
import { buildSftData, buildWorldTokenizer, type SftExample } from '../agent/sft-data.ts';
import { createBackend } from '../engine/create.ts';
import { checkpointTokenizerSlots, loadPolicy, policyBinding, worldHash } from '../model/policy.ts';
import { createBm25Retriever } from '../retrieval/bm25.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import type { Part, Question, SplitName } from '../world/types.ts';
import { SPLITS, TRAINING_SPLITS } from '../world/types.ts';
import { boundedNumberOption, integerOption, option } from './args.ts';
import { loadWorldOrDefault, POLICY_FILE, SHIPPED_POLICY_DIR } from './pretrain.ts';

export const EVAL_USAGE = [
  'eval [--checkpoint PATH] [--world DIR] --split S|all [--part dev|test|train] [--limit N] [--seed N] [--no-retrieval] [--slots N] [--show N] [--temperature T [--top-p P]] [--by-relation]',
  '    greedy rollouts (temperature 0) over BM25 top-3 (--temperature T > 0: sampled from --seed, nucleus --top-p); last stdout line {split, em, f1, format_valid, searches, n, ...}',
  '    (--split all: a table on stderr and one JSON object with every split). --no-retrieval: every search returns no',
  '    passage (the no-retrieval baseline). format_valid: well-formed tags with one final answer, no invalid action,',
  '    not truncated. --by-relation adds each split\'s EM and format validity per relation chain of its questions',
  '    (by_relation in the JSON and a table on stderr).',
  '  eval refiner [--checkpoint PATH] [--world DIR] [--limit N] [--seed N]',
  '    Discriminator accuracy (alpha = P(<accept>) / (P(<accept>) + P(<reject>)) after the judge prompt, accept when',
  '    alpha >= 0.5) and Trimmer exact-cut accuracy (argmax over the valid <cut_k>) on held-out labelled trajectories:',
  '    the scripted expert and its flawed variants on the dev questions of nq and hotpotqa (--limit per split).',
  `  defaults: --checkpoint ${SHIPPED_POLICY_DIR}/${POLICY_FILE}, the default world built in memory (seed 0), --part dev, --seed 0`,
].join('\n');

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const log = (m: string): void => void process.stderr.write(`eval: ${m}\n`);

export async function evalCommand(args: string[]): Promise<number> {
  try {
    return args[0] === 'refiner' ? await refiner(args.slice(1)) : await actor(args);
  } catch (e) {
    console.error(`eval: ${e instanceof Error ? e.message : String(e)}\nusage: ${EVAL_USAGE}`);
    return 1;
  }
}

interface Setup {
  world: ReturnType<typeof loadWorldOrDefault>;
  tok: PolicyTokenizer;
  checkpoint: string;
  loaded: ReturnType<typeof loadPolicy>;
  backend: Awaited<ReturnType<typeof createBackend>>;
}

async function setup(args: string[]): Promise<Setup> {
  const checkpoint = option(args, 'checkpoint') ?? join(SHIPPED_POLICY_DIR, POLICY_FILE);
  const world = loadWorldOrDefault(option(args, 'world'), log);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(checkpoint);
  } catch (e) {
    throw new Error(`cannot read the checkpoint ${checkpoint} (${e instanceof Error ? e.message : String(e)})`);
  }
  // The checkpoint says how many entity slots its tokenizer has; the rest of the tokenizer comes from the world.
  const tok = buildWorldTokenizer(world.corpus, world.all, { slots: checkpointTokenizerSlots(bytes, checkpoint) });
  const backend = await createBackend('cpu');
  const loaded = loadPolicy(backend.ops, bytes, checkpoint, { expect: policyBinding(tok, worldHash(world.corpus)) });
  log(`${checkpoint}: ${loaded.model.parameterCount} parameters (${loaded.metadata.preset ?? '?'} preset, ${loaded.metadata.steps ?? '?'} steps); world ${world.source}; ${backend.info.adapter}`);
  return { world, tok, checkpoint, loaded, backend };
}

/** EM and format validity per relation chain ("located_in/capital") of the questions, chains in first-seen order. */
export function relationBreakdown(qs: readonly Question[], rows: readonly ActorEvalRow[]): Record<string, { n: number; em: number; format_valid: number }> {
  const acc = new Map<string, { n: number; em: number; valid: number }>();
  rows.forEach((r, i) => {
    const chain = qs[i].relations.join('/');
    const a = acc.get(chain) ?? { n: 0, em: 0, valid: 0 };
    a.n++;
    a.em += r.em;
    a.valid += r.formatValid ? 1 : 0;
    acc.set(chain, a);
  });
  return Object.fromEntries([...acc].map(([k, a]) => [k, { n: a.n, em: r4(a.em / a.n), format_valid: r4(a.valid / a.n) }]));
}

async function actor(args: string[]): Promise<number> {
  const splitArg = option(args, 'split');
  if (!splitArg) throw new Error('--split S|all is required');
  const splits = (splitArg === 'all' ? [...SPLITS] : splitArg.split(',')) as SplitName[];
  for (const s of splits) if (!(SPLITS as readonly string[]).includes(s)) throw new Error(`unknown split "${s}" (expected ${SPLITS.join(', ')} or all)`);
  const part = (option(args, 'part') ?? 'dev') as Part;
  if (part !== 'dev' && part !== 'test' && part !== 'train') throw new Error(`--part must be dev, test or train, got "${part}"`);
  const limit = integerOption(args, 'limit', Number.MAX_SAFE_INTEGER);
  const seed = integerOption(args, 'seed', 0);
  const slots = integerOption(args, 'slots', 16);
  const noRet = args.includes('--no-retrieval');
  const byRelation = args.includes('--by-relation');
  const show = integerOption(args, 'show', 0);
  const temperature = boundedNumberOption(args, 'temperature', 0, Number.POSITIVE_INFINITY, false);
  const topP = boundedNumberOption(args, 'top-p', 1, 1, true);
  if (option(args, 'top-p') !== undefined && temperature === 0) throw new Error('--top-p needs --temperature T > 0 (greedy decoding has no nucleus)');
  const s = await setup(args);
  const retriever = noRet ? noRetrieval() : bm25PassageRetriever(s.world.corpus);
  const results: Record<string, Record<string, unknown>> = {};
  try {
    for (const split of splits) {
      const qs: Question[] = s.world.questions[split][part].slice(0, limit);
      if (qs.length === 0) {
        log(`${split}/${part}: no questions`);
        continue;
      }
      const { result, rows: shown } = await evaluateActor(s.loaded.model, s.tok, retriever, qs, {
        seed,
        slots,
        ...(temperature > 0 ? { temperature, topP } : {}),
        onProgress: (d, n) => log(`${split}/${part}: ${d}/${n}`),
      });
      const row = {
        split,
        part,
        retrieval: noRet ? 'none' : 'bm25',
        em: r4(result.em),
        f1: r4(result.f1),
        format_valid: r4(result.format_valid),
        searches: r4(result.searches),
        n: result.n,
        answered: r4(result.answered),
        truncated: r4(result.truncated),
        invalid_actions: r4(result.invalid_actions),
        generated_tokens: r4(result.generated_tokens),
        seconds: r4(result.seconds),
      };
      const breakdown = byRelation ? relationBreakdown(qs, shown) : null;
      results[split] = breakdown ? { ...row, by_relation: breakdown } : row;
      for (const [chain, b] of Object.entries(breakdown ?? {})) log(`${split}/${part} ${chain}: EM ${b.em} format ${b.format_valid} (n ${b.n})`);
      for (const r of shown.slice(0, show))
        log(`--- ${r.id}: ${r.question} gold ${JSON.stringify(r.golden)} -> ${JSON.stringify(r.answer)} (em ${r.em}, format ${r.formatValid})\n${r.response}`);
      log(`${split}/${part}: EM ${row.em} F1 ${row.f1} format ${row.format_valid} searches ${row.searches} (n ${row.n}, ${row.seconds} s)`);
    }
  } finally {
    s.loaded.model.dispose();
    s.backend.dispose();
  }
  if (splits.length === 1 && results[splits[0]]) {
    console.log(JSON.stringify({ ...results[splits[0]], seed, temperature, checkpoint: s.checkpoint }));
    return 0;
  }
  const rows = Object.values(results);
  const head = ['split', 'n', 'em', 'f1', 'format_valid', 'searches', 'answered', 'seconds'];
  const lines = [head.join('\t'), ...rows.map((r) => head.map((h) => String(r[h])).join('\t'))];
  const avg = (k: string): number => r4(rows.reduce((a, r) => a + Number(r[k]), 0) / Math.max(1, rows.length));
  const average = { em: avg('em'), f1: avg('f1'), format_valid: avg('format_valid'), searches: avg('searches') };
  lines.push(['average', '', average.em, average.f1, average.format_valid, average.searches, '', ''].join('\t'));
  process.stderr.write(`${lines.join('\n')}\n`);
  console.log(JSON.stringify({ part, retrieval: noRet ? 'none' : 'bm25', seed, temperature, checkpoint: s.checkpoint, splits: results, average }));
  return 0;
}

/** Search steps of a trim example's trajectory: its `<search>` tokens (the prompt holds each step's search once). */
export function trimStepCount(x: SftExample, tok: PolicyTokenizer): number {
  let k = 0;
  for (let i = 0; i < x.ids.length; i++) if (x.ids[i] === tok.special.search) k++;
  return k;
}

async function refiner(args: string[]): Promise<number> {
  const limit = integerOption(args, 'limit', Number.MAX_SAFE_INTEGER);
  const seed = integerOption(args, 'seed', 0);
  const s = await setup(args);
  try {
    // Held out: dev questions of the training splits (no entity of a dev question occurs in a training question).
    const dev = TRAINING_SPLITS.flatMap((sp) => s.world.questions[sp].dev.slice(0, limit));
    const ctx = createExpertContext(s.world.corpus, createBm25Retriever(s.world.corpus), dev);
    const data = await buildSftData({ tokenizer: s.tok, ctx, questions: dev, seed });
    const ctxLen = s.loaded.config.context;
    const judge = data.judge.filter((x) => x.ids.length <= ctxLen);
    const trim = data.trim.filter((x) => x.ids.length <= ctxLen);
    log(`held-out: ${dev.length} dev questions -> ${judge.length} judge, ${trim.length} trim examples`);
    const r = await evaluateRefiner(s.loaded.model, s.tok, judge, trim, trim.map((x) => trimStepCount(x, s.tok)));
    const out = {
      mode: 'refiner',
      part: 'dev',
      splits: TRAINING_SPLITS,
      questions: dev.length,
      seed,
      checkpoint: s.checkpoint,
      discriminator_accuracy: r4(r.judge.accuracy),
      trimmer_exact_cut: r4(r.trim.exact_cut),
      judge: { ...r.judge, accuracy: r4(r.judge.accuracy), accuracy_good: r4(r.judge.accuracy_good), accuracy_flawed: r4(r.judge.accuracy_flawed), mean_alpha_good: r4(r.judge.mean_alpha_good), mean_alpha_flawed: r4(r.judge.mean_alpha_flawed) },
      trim: { ...r.trim, exact_cut: r4(r.trim.exact_cut), majority_baseline: r4(r.trim.majority_baseline) },
      seconds: r4(r.seconds),
    };
    log(`Discriminator accuracy ${out.discriminator_accuracy} (good ${out.judge.accuracy_good}, flawed ${out.judge.accuracy_flawed}); Trimmer exact cut ${out.trimmer_exact_cut} (majority ${out.trim.majority_baseline})`);
    console.log(JSON.stringify(out));
    return 0;
  } finally {
    s.loaded.model.dispose();
    s.backend.dispose();
  }
}
