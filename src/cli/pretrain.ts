// `pretrain`: the SFT warm start (src/agent/sft-train.ts) of one policy on the Actor, Discriminator and Trimmer
// examples of a world's training questions (nq + hotpotqa train parts), written as a policy checkpoint
// (savePolicy: config, tokenizer hash and world hash inside; weights stored as F16 unless --f32) with
// DIR/train-log.jsonl (one JSON line per step) and DIR/README.md (the exact command that reproduces it).
// Progress on stderr; the last stdout line is one JSON object with the measured figures.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusExamples } from '../agent/corpus-lm.ts';
import { relationChainKey, roundRobinByGroup } from '../agent/balance.ts';
import { recoveryRound } from '../agent/dagger.ts';
import { createExpertContext } from '../agent/expert.ts';
import { corpusRetriever } from '../agent/rollout.ts';
import { DEFAULT_MIX, trainSft } from '../agent/sft-train.ts';
import { buildSftData, buildWorldTokenizer, type SftExample } from '../agent/sft-data.ts';
import { createBackend } from '../engine/create.ts';
import { checkpointTokenizerSlots, createPolicy, loadPolicy, policyBinding, policyConfig, type PolicyPresetName, POLICY_PRESET_NAMES, POLICY_PRESETS, type PolicyShape, savePolicy, worldHash } from '../model/policy.ts';
import { MAX_SHIFT } from '../model/transformer.ts';
import { readSafetensors, type TensorToWrite, writeSafetensors } from '../model/safetensors.ts';
import { createBm25Retriever } from '../retrieval/bm25.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import { MAX_SLOTS } from '../text/policy-vocab.ts';
import { buildWorld } from '../world/build.ts';
import { corpusRecords, readWorld } from '../world/format.ts';
import { streamSeed } from '../world/random.ts';
import { loadSources } from '../world/sources.ts';
import type { CorpusRecord, Question, SplitQuestions } from '../world/types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from '../world/types.ts';
import { boundedNumberOption, integerOption, option, positiveNumberOption } from './args.ts';

/** The file name of the checkpoint inside a policy directory (public/policy/model.safetensors when shipped). */
export const POLICY_FILE = 'model.safetensors';
/** The shipped warm-start policy, relative to the repository root. */
export const SHIPPED_POLICY_DIR = 'public/policy';

export const PRETRAIN_USAGE = [
  'pretrain [--preset tiny|small] [--world DIR] [--seed N] [--steps N | --minutes M] [--questions N] [--lr X] [--token-budget N]',
  '         [--mix A,J,T[,C]] [--warmup N] [--decision-weight W] [--tag-weight W] [--copy P [--copy-prefixes] [--copy-names fresh|world]] [--positions normal|sinusoidal] [--shift S] [--frozen-embeddings] [--slots N] [--balance A] [--dagger AT[,AT...] [--dagger-share S] [--dagger-questions N]] [--stop-after N] [--max-minutes M] [--save-every N] [--threads 1|2] [--init CKPT] [--f32] --out DIR',
  '  SFT warm start of one policy on the Actor, Discriminator and Trimmer examples of the training questions. Without',
  '  --world the default world is built in memory (seed 0). --minutes fixes the step count after 10 timed steps (the',
  '  README it writes gives the --steps that reproduces the run). Writes DIR/model.safetensors, DIR/train-log.jsonl,',
  '  DIR/README.md; the last stdout line is one JSON object. --max-minutes stops early (the schedule of --steps is kept;',
  '  the README then gives --stop-after); --save-every writes DIR/interim-model.safetensors every N steps. --copy P renames',
  '  the plan names of a share P of the Actor examples (src/agent/copy-augment.ts) so that the policy learns to copy;',
  '  --copy-prefixes adds the short prefixes of each renamed example (up to the first query; up to the first read);',
  '  --copy-names world draws the new names from the world (a real name playing the same role in another training plan:',
  '  counterfactual facts in plausible text) instead of fresh words and letter strings;',
  '  --positions sinusoidal starts the position embeddings at the sin/cos table (refused with --init). --shift S (0..4): the',
  '  token shift, each position also reads its S previous tokens (src/model/transformer.ts; default: the preset\'s,',
  '  2 for small and base, 0 for tiny). --frozen-embeddings keeps the token embedding at its random initialization, in',
  '  this run and in GRPO from its checkpoint (TransformerConfig.frozenEmbeddings; refused with --init, which keeps the',
  '  checkpoint\'s). --slots N (1..512): a tokenizer with N entity slots: names (the passages\' proper nouns, in any',
  '  case) are written as @0, @1, ... in order of first appearance in each sequence, so that an answer read in a',
  '  passage is written with ids every demonstration trains (src/text/policy-tokenizer.ts; the checkpoint records N and',
  '  eval and train rebuild that tokenizer; refused with --init). --balance A (0..1): draw the Actor, judge and trim examples per relation chain of their question',
  '  with probability ~ count^A (0: every relation alike; default: plain passes over the data, dominated by two relations',
  '  per split; src/agent/sft-batch.ts). --dagger AT (0 < AT < 1): after that share of the steps, roll the policy out',
  '  (temperature 1) on --dagger-questions training questions (default 2000) and train on the expert\'s continuation',
  '  from the states it reached (src/agent/dagger.ts) for --dagger-share of the Actor draws (default 0.5); several',
  '  ascending shares (0.5,0.8) run a round at each, every round\'s examples added to the earlier ones. --mix A,J,T,C:',
  '  shares of Actor, judge, trim and corpus language-modelling examples (src/agent/corpus-lm.ts: every passage, packed',
  '  in 512-token chunks, loss on every token; C defaults to 0, none). --tag-weight W: the loss weight of the Actor\'s',
  '  format tags (<think> </think> <search> </search> <answer> </answer>) against its other tokens (default 1).',
].join('\n');

export interface WorldData {
  /** The directory read, or "default (seed 0, built in memory)". */
  source: string;
  corpus: CorpusRecord[];
  questions: SplitQuestions;
  all: Question[];
}

/** The world of --world DIR, or the default world built in memory by seed 0 (the shipped checkpoint's world). */
export function loadWorldOrDefault(dir: string | undefined, log: (m: string) => void = () => {}): WorldData {
  if (dir) {
    const w = readWorld(dir);
    return { source: dir, corpus: w.corpus, questions: w.questions, all: SPLITS.flatMap((s) => PARTS.flatMap((p) => w.questions[s][p])) };
  }
  log('building the default world (seed 0) in memory');
  const w = buildWorld({ seed: 0, size: 'default', sources: loadSources() }).world;
  return { source: 'default (seed 0, built in memory)', corpus: corpusRecords(w), questions: w.questions, all: SPLITS.flatMap((s) => PARTS.flatMap((p) => w.questions[s][p])) };
}

/** Re-encodes a checkpoint's float tensors as F16 (same names, shapes and metadata). */
export function checkpointToF16(bytes: Uint8Array, source: string): Uint8Array {
  const f = readSafetensors(bytes, source);
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of f.tensors) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${source}: tensor '${name}' is ${t.dtype}, expected a float`);
    out.set(name, { dtype: 'F16', shape: [...t.shape], data: t.data });
  }
  return writeSafetensors(out, f.metadata);
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

export async function pretrain(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (e) {
    console.error(`pretrain: ${e instanceof Error ? e.message : String(e)}\nusage: ${PRETRAIN_USAGE}`);
    return 1;
  }
}

async function run(args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = option(args, 'out');
  if (!out) throw new Error('--out DIR is required');
  const preset = (option(args, 'preset') ?? 'small') as PolicyPresetName;
  if (!POLICY_PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${POLICY_PRESET_NAMES.join(', ')}, got "${preset}"`);
  const seed = integerOption(args, 'seed', 0);
  const minutes = option(args, 'minutes') !== undefined ? positiveNumberOption(args, 'minutes', 1) : undefined;
  if (minutes !== undefined && option(args, 'steps') !== undefined) throw new Error('give --steps or --minutes, not both');
  const steps = integerOption(args, 'steps', minutes !== undefined ? 1_000_000 : 200, 1);
  const maxQuestions = integerOption(args, 'questions', Number.MAX_SAFE_INTEGER);
  const lr = positiveNumberOption(args, 'lr', 2e-3);
  const tokenBudget = integerOption(args, 'token-budget', 4096);
  const warmup = integerOption(args, 'warmup', 100);
  const decisionWeight = positiveNumberOption(args, 'decision-weight', 8);
  const tagWeight = positiveNumberOption(args, 'tag-weight', 1);
  const stopAfter = option(args, 'stop-after') !== undefined ? integerOption(args, 'stop-after', 0) : undefined;
  const maxMinutes = option(args, 'max-minutes') !== undefined ? positiveNumberOption(args, 'max-minutes', 1) : undefined;
  const saveEvery = integerOption(args, 'save-every', 0);
  const mixText = option(args, 'mix');
  const mix = mixText ? parseMix(mixText) : DEFAULT_MIX;
  const f32 = args.includes('--f32');
  const copyRate = positiveNumberOption(args, 'copy', 0);
  if (!(copyRate >= 0 && copyRate <= 1)) throw new Error(`--copy must be a share in [0, 1], got ${copyRate}`);
  const copyPrefixes = args.includes('--copy-prefixes');
  const balanceAlpha = option(args, 'balance') === undefined ? undefined : boundedNumberOption(args, 'balance', 0, 1, false);
  const copyNames = option(args, 'copy-names') ?? 'fresh';
  if (copyNames !== 'fresh' && copyNames !== 'world') throw new Error(`--copy-names must be fresh or world, got "${copyNames}"`);
  if (copyNames === 'world' && !(copyRate > 0)) throw new Error('--copy-names world needs --copy P with P > 0');
  if (copyPrefixes && !(copyRate > 0)) throw new Error('--copy-prefixes needs --copy P with P > 0');
  const positions = option(args, 'positions') ?? 'normal';
  if (positions !== 'normal' && positions !== 'sinusoidal') throw new Error(`--positions must be normal or sinusoidal, got "${positions}"`);
  if (option(args, 'positions') !== undefined && option(args, 'init') !== undefined)
    throw new Error('--positions sets how a fresh policy starts; with --init the position embeddings come from the checkpoint (drop one of them)');
  const presetShift = POLICY_PRESETS[preset].shift ?? 0;
  const shift = integerOption(args, 'shift', presetShift);
  if (shift > MAX_SHIFT) throw new Error(`--shift must be an integer in 0..${MAX_SHIFT}, got ${shift}`);
  const { shift: _preset, ...unshifted } = POLICY_PRESETS[preset];
  const frozenEmbeddings = args.includes('--frozen-embeddings');
  if (frozenEmbeddings && option(args, 'init') !== undefined)
    throw new Error('--frozen-embeddings sets how a fresh policy is built; with --init the checkpoint\'s config decides (drop one of them)');
  const shape: PolicyShape = { ...(shift > 0 ? { ...unshifted, shift } : unshifted), ...(frozenEmbeddings ? { frozenEmbeddings } : {}) };
  const daggerArg = option(args, 'dagger');
  const daggerAt = daggerArg !== undefined ? parseDagger(daggerArg) : undefined;
  if (daggerAt !== undefined && minutes !== undefined) throw new Error('--dagger needs --steps (its step is a share of them), not --minutes');
  const daggerShare = positiveNumberOption(args, 'dagger-share', 0.5);
  if (!(daggerShare <= 1)) throw new Error(`--dagger-share must be a share in (0, 1], got ${daggerShare}`);
  const daggerQuestions = integerOption(args, 'dagger-questions', 2000, 1);
  if (daggerAt === undefined && (option(args, 'dagger-share') !== undefined || option(args, 'dagger-questions') !== undefined)) throw new Error('--dagger-share and --dagger-questions need --dagger AT');
  const daggerSteps = daggerAt?.map((at) => Math.max(1, Math.round(at * steps)));
  if (daggerSteps && new Set(daggerSteps).size !== daggerSteps.length) throw new Error(`--dagger ${daggerArg}: two rounds fall on the same step of ${steps}`);
  const slots = option(args, 'slots') !== undefined ? integerOption(args, 'slots', 0, 1) : 0;
  if (slots > MAX_SLOTS) throw new Error(`--slots must be an integer in 1..${MAX_SLOTS}, got ${slots}`);
  if (slots > 0 && option(args, 'init') !== undefined) throw new Error('--slots sets the tokenizer of a fresh policy; with --init the checkpoint\'s tokenizer decides (drop one of them)');
  const log = (m: string): void => void process.stderr.write(`pretrain: ${m}\n`);

  const world = loadWorldOrDefault(option(args, 'world'), log);
  const init = option(args, 'init');
  const initBytes = init !== undefined ? readFileSync(init) : undefined;
  const tokSlots = init !== undefined && initBytes !== undefined ? checkpointTokenizerSlots(initBytes, init) : slots;
  const tok: PolicyTokenizer = buildWorldTokenizer(world.corpus, world.all, { slots: tokSlots });
  const wHash = worldHash(world.corpus);
  // Interleave the training splits so a --questions limit keeps both (one-hop and multi-hop).
  const lists = TRAINING_SPLITS.map((s) => world.questions[s].train);
  const train: Question[] = [];
  for (let i = 0; train.length < maxQuestions && lists.some((l) => i < l.length); i++)
    for (const l of lists) if (i < l.length && train.length < maxQuestions) train.push(l[i]);
  log(`world ${world.source}: ${world.corpus.length} passages, ${train.length} training questions; vocabulary ${tok.size} ids${tok.slots > 0 ? ` (${tok.slots} entity slots)` : ''}`);
  const binding = policyBinding(tok, wHash);
  // A question's group for --balance: its split and relation chain (e.g. "hotpotqa:located_in/capital").
  const relationChain = new Map(TRAINING_SPLITS.flatMap((s) => world.questions[s].train.map((q) => [q.id, relationChainKey(s, q)] as const)));

  const ts = performance.now();
  const bm25 = createBm25Retriever(world.corpus);
  const ctx = createExpertContext(world.corpus, bm25, train);
  let last = 0;
  const data = await buildSftData({
    tokenizer: tok,
    ctx,
    questions: train,
    seed,
    copyRate,
    copyPrefixes,
    copyNames,
    onProgress: (d, n) => {
      if (d - last >= 2000 || d === n) {
        last = d;
        log(`sft data ${d}/${n}`);
      }
    },
  });
  const sftSeconds = (performance.now() - ts) / 1000;
  log(`sft data: ${data.actor.length} actor, ${data.judge.length} judge, ${data.trim.length} trim examples in ${sftSeconds.toFixed(1)} s`);
  const corpusLm = (mix.corpus ?? 0) > 0 ? corpusExamples(tok, world.corpus, { seed }) : [];
  if (corpusLm.length > 0) log(`corpus LM: ${world.corpus.length} passages in ${corpusLm.length} examples (${corpusLm.reduce((a, x) => a + x.ids.length, 0)} tokens)`);

  const threads = option(args, 'threads');
  if (threads !== undefined && threads !== '1' && threads !== '2') throw new Error(`--threads must be 1 or 2, got "${threads}"`);
  const backend = await createBackend('cpu', threads ? { threads: Number(threads) as 1 | 2 } : {});
  // --init: continue from a checkpoint's weights (same preset, tokenizer and world; a fresh optimizer and schedule).
  const model = init && initBytes
    ? loadPolicy(backend.ops, initBytes, init, { expect: binding, config: policyConfig(shape, tok.size) }).model
    : createPolicy(backend.ops, shape, tok.size, seed, { positions });
  if (init) log(`initialised from ${init}`);
  log(`${backend.info.adapter}; ${preset} policy, ${model.parameterCount} parameters`);
  mkdirSync(out, { recursive: true });
  const logLines: string[] = [];
  const daggerStats: Record<string, number>[] = [];
  const recovery =
    daggerSteps === undefined
      ? undefined
      : {
          atSteps: daggerSteps,
          share: daggerShare,
          build: async (round: number) => {
            // An even spread over the training questions (both splits interleaved, as `train` is); each round
            // starts the spread one question further on and samples with its own stream. With --balance: round-robin
            // over the relation chains instead (each chain's questions from the round's offset on), so the recovery
            // examples cover the rare relations as the balanced draws do.
            const stride = Math.max(1, Math.floor(train.length / daggerQuestions));
            const qs =
              balanceAlpha !== undefined
                ? roundRobinByGroup(train, (q) => relationChain.get(q.id) ?? '?', daggerQuestions, round)
                : train.filter((_, i) => i % stride === round % stride).slice(0, daggerQuestions);
            log(`dagger round ${round + 1}/${daggerSteps.length}: rolling out the policy on ${qs.length} training questions`);
            const r = await recoveryRound(model, tok, corpusRetriever(bm25, world.corpus), ctx, qs, {
              seed: round === 0 ? seed : streamSeed(seed, `pretrain:dagger-round:${round}`),
              onProgress: (d, n) => log(`dagger rollouts ${d}/${n}`),
            });
            daggerStats.push({ rollouts: r.stats.rollouts, on_expert: r.stats.onExpert, examples: r.stats.examples, skipped_forced: r.stats.skippedForced });
            log(`dagger: ${r.stats.examples} recovery examples from ${r.stats.rollouts} rollouts (${r.stats.onExpert} followed the expert throughout, ${r.stats.skippedForced} states skipped as forced)`);
            return r.examples;
          },
        };
  const result = await trainSft(model, { actor: data.actor, judge: data.judge, trim: data.trim, corpus: corpusLm }, {
    ...(recovery ? { recovery } : {}),
    steps,
    seed,
    lr,
    warmupSteps: warmup,
    tokenBudget,
    mix,
    padId: tok.special.pad,
    decisionWeight,
    ...(balanceAlpha !== undefined ? { balance: { alpha: balanceAlpha, groupOf: (x: SftExample) => relationChain.get(x.questionId) ?? '?' } } : {}),
    ...(tagWeight !== 1 ? { tagWeight: { ids: formatTagIds(tok), weight: tagWeight } } : {}),
    ...(minutes !== undefined ? { budgetSeconds: minutes * 60 } : {}),
    ...(stopAfter !== undefined ? { stopAfter } : {}),
    ...(maxMinutes !== undefined ? { maxSeconds: maxMinutes * 60 } : {}),
    onStep: async (s) => {
      logLines.push(JSON.stringify({ step: s.step, steps: s.steps, lr: s.lr, loss: r4(s.loss), role_loss: roundRoles(s.roleLoss), grad_norm: r4(s.gradNorm), examples: s.examples, t: s.t, tokens: s.tokens, seconds: r4(s.seconds) }));
      if (s.step % 20 === 0 || s.step === s.steps || s.step <= 3)
        log(`step ${s.step}/${s.steps} loss ${s.loss.toFixed(3)} (actor ${fmt(s.roleLoss.actor)} judge ${fmt(s.roleLoss.judge)} trim ${fmt(s.roleLoss.trim)}${corpusLm.length > 0 ? ` corpus ${fmt(s.roleLoss.corpus)}` : ''}) lr ${s.lr.toExponential(2)} |g| ${s.gradNorm.toFixed(2)} ${s.tokensPerSecond.toFixed(0)} tok/s ${s.seconds.toFixed(0)} s`);
      if (saveEvery > 0 && s.step % saveEvery === 0) {
        // An interim checkpoint (weights only: a stopped run cannot resume its optimizer state from it).
        const b = await savePolicy(model, binding, { preset, seed: String(seed), steps: String(s.step), interim: 'true' });
        writeFileSync(join(out, `interim-${POLICY_FILE}`), f32 ? b : checkpointToF16(b, join(out, POLICY_FILE)));
        writeFileSync(join(out, 'train-log.jsonl'), `${logLines.join('\n')}\n`);
      }
    },
  });
  writeFileSync(join(out, 'train-log.jsonl'), `${logLines.join('\n')}\n`);
  const extra: Record<string, string> = { preset, seed: String(seed), steps: String(result.steps), role: 'actor+judge+trim', dtype: f32 ? 'F32' : 'F16' };
  if (init) extra.init = init;
  let bytes = await savePolicy(model, binding, extra);
  if (!f32) bytes = checkpointToF16(bytes, join(out, POLICY_FILE));
  writeFileSync(join(out, POLICY_FILE), bytes);
  const parameters = model.parameterCount;
  const modelFrozen = model.config.frozenEmbeddings === true;
  model.dispose();
  backend.dispose();

  const worldArg = option(args, 'world');
  const cmd = [
    'npm run -s cli -- pretrain', `--preset ${preset}`, worldArg ? `--world ${worldArg}` : '', `--seed ${seed}`, `--steps ${result.plannedSteps}`, result.stoppedEarly ? `--stop-after ${result.steps}` : '',
    maxQuestions !== Number.MAX_SAFE_INTEGER ? `--questions ${maxQuestions}` : '', `--lr ${lr}`, `--token-budget ${tokenBudget}`,
    `--mix ${mix.actor},${mix.judge},${mix.trim}${(mix.corpus ?? 0) > 0 ? `,${mix.corpus}` : ''}`, `--warmup ${warmup}`, `--decision-weight ${decisionWeight}`, tagWeight !== 1 ? `--tag-weight ${tagWeight}` : '', copyRate > 0 ? `--copy ${copyRate}` : '', copyPrefixes ? '--copy-prefixes' : '', copyNames !== 'fresh' ? `--copy-names ${copyNames}` : '', positions !== 'normal' ? `--positions ${positions}` : '', shift !== presetShift ? `--shift ${shift}` : '', frozenEmbeddings ? '--frozen-embeddings' : '', slots > 0 ? `--slots ${slots}` : '', balanceAlpha !== undefined ? `--balance ${balanceAlpha}` : '', daggerAt !== undefined ? `--dagger ${daggerAt.join(',')} --dagger-share ${daggerShare} --dagger-questions ${daggerQuestions}` : '', init ? `--init ${init}` : '', f32 ? '--f32' : '', `--out ${out}`,
  ].filter((s) => s !== '').join(' ');
  const summary = {
    out,
    checkpoint: join(out, POLICY_FILE),
    checkpoint_bytes: bytes.length,
    dtype: f32 ? 'F32' : 'F16',
    preset,
    shift,
    frozen_embeddings: modelFrozen,
    parameters,
    vocab: tok.size,
    entity_slots: tok.slots,
    tokenizer: tok.hash,
    world: wHash,
    world_source: world.source,
    seed,
    steps: result.steps,
    planned_steps: result.plannedSteps,
    stopped_early: result.stoppedEarly,
    train_seconds: r4(result.seconds),
    tokens: result.tokens,
    padded_tokens: result.paddedTokens,
    tokens_per_s: Math.round(result.tokensPerSecond),
    first_loss: r4(result.firstLoss),
    last_loss: r4(result.lastLoss),
    last_role_loss: roundRoles(result.lastRoleLoss),
    examples: result.examples,
    passes: result.passes,
    ...(balanceAlpha !== undefined ? { balance: { alpha: balanceAlpha, actor_groups: result.groups.map((g) => ({ ...g, share: r4(g.share) })) } } : {}),
    dropped_too_long: result.droppedTooLong,
    tag_weight: tagWeight,
    dagger: result.recovery
      ? { share: daggerShare, rounds: result.recovery.map((r, i) => ({ at_step: r.atStep, seconds: r4(r.seconds), examples_kept: r.examples, ...(daggerStats[i] ?? {}) })) }
      : null,
    sft: { seconds: r4(sftSeconds), questions: train.length, good: data.stats.good, renamed: data.stats.renamed, cuts: data.stats.cuts, flawed: data.stats.flawed },
    adapter: backend.info.adapter,
    seconds: r4((performance.now() - t0) / 1000),
    command: cmd,
  };
  writeFileSync(join(out, 'README.md'), readme(summary, cmd));
  log(`wrote ${summary.checkpoint} (${(bytes.length / 1e6).toFixed(2)} MB) in ${summary.seconds.toFixed(0)} s`);
  console.log(JSON.stringify(summary));
  return 0;
}

/** `--dagger AT[,AT...]`: ascending shares of the steps in (0, 1), one DAgger round at each. */
function parseDagger(text: string): number[] {
  const ats = text.split(',').map(Number);
  if (ats.some((x) => !(x > 0 && x < 1)) || ats.some((x, i) => i > 0 && !(x > ats[i - 1])))
    throw new Error(`--dagger must be one or more ascending shares of the steps in (0, 1), e.g. 0.6 or 0.5,0.8; got "${text}"`);
  return ats;
}

/** The tags the Actor writes itself (the <information> tags are observations, never its targets). */
export function formatTagIds(tok: PolicyTokenizer): ReadonlySet<number> {
  const sp = tok.special;
  return new Set([sp.think, sp.thinkEnd, sp.search, sp.searchEnd, sp.answer, sp.answerEnd]);
}

function parseMix(text: string): { actor: number; judge: number; trim: number; corpus?: number } {
  const p = text.split(',').map(Number);
  if ((p.length !== 3 && p.length !== 4) || p.some((x) => !(x >= 0)) || p.slice(0, 3).every((x) => x === 0)) throw new Error(`--mix must be three or four non-negative numbers A,J,T[,C] (not all of A,J,T zero), got "${text}"`);
  return p.length === 4 ? { actor: p[0], judge: p[1], trim: p[2], corpus: p[3] } : { actor: p[0], judge: p[1], trim: p[2] };
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');

function roundRoles(r: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number.isFinite(v) ? r4(v) : null]));
}

function readme(s: Record<string, unknown>, cmd: string): string {
  return [
    '# Warm-start policy checkpoint',
    '',
    'One decoder-only policy trained by supervised fine-tuning on the scripted expert\'s demonstrations (Actor),',
    'accept/reject decisions over good and flawed trajectories (Discriminator) and earliest-flaw cuts (Trimmer): the',
    'Meta-Refiner shares the Actor\'s weights (DESIGN.md 4.2). Produced by `src/cli/pretrain.ts`; the checkpoint',
    '(`model.safetensors`) holds the config, the policy tokenizer\'s hash and the world\'s hash, and refuses to load',
    'against another tokenizer or world.',
    '',
    'Reproduce (same numbers on the cpu backend):',
    '',
    '```sh',
    cmd,
    '```',
    '',
    '`train-log.jsonl` has one line per step (loss, per-role NLL, learning rate, gradient norm, batch shape, time).',
    '',
    'Measured:',
    '',
    '```json',
    JSON.stringify(s, null, 2),
    '```',
    '',
  ].join('\n');
}
