// `train`: GRPO training of one preset (DESIGN 9). Progress on stderr; the last stdout line is one JSON object.
//   train --preset P [--steps N] [--seed N] [--model tiny|small] [--checkpoint PATH] [--world DIR]
//         [--backend cpu|webgpu] [--lr X] [--probe N] [--eval-every N] [--save-every N] [--resume DIR] [--example-step FILE] --out DIR
// Writes DIR/metrics.jsonl (one StepMetrics per step), DIR/trajectories.jsonl (the final trajectories of every
// step: id, question, response, reward parts, revision), DIR/last-step.json (the last StepRecord, every event),
// DIR/checkpoints/step-NNNN/{state.safetensors, run.json} (resumable run state) and DIR/policy.safetensors (the
// trained policy, loadable by `eval --checkpoint`).
// Defaults: --model small uses the default world (seed 0) and the shipped checkpoint public/policy/model.safetensors
// when present; --model tiny uses the tiny world (seed 0) and a fresh tiny policy unless --checkpoint is given.
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusRetriever, type PassageRetriever } from '../agent/rollout.ts';
import { createBackend } from '../engine/create.ts';
import type { Backend } from '../engine/types.ts';
import { savePolicy } from '../model/policy.ts';
import { externalJudge, type ProcessJudge } from '../reward/judges.ts';
import type { StepRecord } from '../rl/events.ts';
import { isPresetName, PRESET_NAMES, presetConfig, type ScheduleName } from '../rl/presets.ts';
import { parseRunState, restoreRunState, saveRunState } from '../rl/run-state.ts';
import { FileRunStore } from '../rl/run-store-file.ts';
import { type CheckpointAsset, createTrainer, type WorldAssets } from '../rl/trainer-setup.ts';
import type { TrainConfig } from '../worker/train-protocol.ts';
import { buildWorld } from '../world/build.ts';
import { corpusRecords, readWorld } from '../world/format.ts';
import { loadSources } from '../world/sources.ts';
import { integerOption, option, positiveNumberOption } from './args.ts';

export const TRAIN_USAGE = [
  'train --preset P [--steps N] [--seed N] [--model tiny|small] [--checkpoint PATH] [--world DIR] [--backend cpu|webgpu]',
  '      [--questions N] [--balance A] [--lr X] [--probe N] [--eval-every N] [--save-every N] [--resume DIR] [--retriever bm25|e5 [--encoder PATH]]',
  '      [--judge gold-evidence|answer-containment|external [--judge-url URL --judge-model NAME; key in JUDGE_API_KEY]] --out DIR',
  '  train --resume DIR/checkpoints/step-N [--steps N] [--world DIR] --out DIR   continue a saved run with its saved config',
  '  train --preset search-r2 --example-step FILE   one real step on the shipped checkpoint, its StepRecord JSON to FILE',
  `  presets: ${PRESET_NAMES.join(', ')}`,
  '  --balance A (0..1): draw each step\'s questions per relation chain with probability ~ count^A (0: every chain alike, as',
  '  dev is; default: epochs over the training lists, three quarters two chains per split)',
  '  writes DIR/metrics.jsonl, DIR/trajectories.jsonl, DIR/eval.jsonl (dev EM/F1/format per split: step 0 = the warm start, then every',
  '  --eval-every steps), DIR/last-step.json, DIR/checkpoints/step-N/, DIR/policy.safetensors',
].join('\n');

export const SHIPPED_CHECKPOINT = 'public/policy/model.safetensors';

export const log = (m: string): void => void process.stderr.write(`${m}\n`);

/** The world of --world DIR, else the one the model size trains on by default (built in memory, seed 0). */
const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

export function loadWorldFor(dir: string | undefined, model: ScheduleName | 'base'): WorldAssets & { source: string } {
  if (dir) {
    const w = readWorld(dir);
    return { corpus: w.corpus, questions: w.questions, source: dir };
  }
  const size = model === 'tiny' ? 'tiny' : 'default';
  log(`building the ${size} world (seed 0) in memory`);
  const w = buildWorld({ seed: 0, size, sources: loadSources() }).world;
  return { corpus: corpusRecords(w), questions: w.questions, source: `${size} world (seed 0, built in memory)` };
}

/** --checkpoint PATH (a file, or a directory holding model.safetensors); else the shipped one for small/base. */
export function loadCheckpointFor(path: string | undefined, model: string): CheckpointAsset | null {
  let p = path;
  if (p && existsSync(p) && statSync(p).isDirectory()) p = join(p, 'model.safetensors');
  if (p) {
    if (!existsSync(p)) throw new Error(`--checkpoint: ${p} does not exist`);
    return { bytes: new Uint8Array(readFileSync(p)), source: p };
  }
  if (model !== 'tiny' && existsSync(SHIPPED_CHECKPOINT)) return { bytes: new Uint8Array(readFileSync(SHIPPED_CHECKPOINT)), source: SHIPPED_CHECKPOINT };
  return null;
}

export async function backendFor(kind: string | undefined): Promise<Backend> {
  const k = kind ?? 'cpu';
  if (k !== 'cpu' && k !== 'webgpu') throw new Error(`--backend must be cpu or webgpu, got "${k}"`);
  return createBackend(k);
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/**
 * --judge external --judge-url URL --judge-model NAME: an OpenAI-compatible endpoint; the key is read from the
 * environment variable JUDGE_API_KEY (never from the command line, which other users of the machine can read).
 */
export function externalJudgeFor(args: string[], config: TrainConfig): ProcessJudge | null {
  if (config.judge !== 'external') return null;
  const url = option(args, 'judge-url');
  const model = option(args, 'judge-model');
  if (!url || !model) throw new Error('--judge external needs --judge-url URL and --judge-model NAME (key: JUDGE_API_KEY)');
  const apiKey = process.env.JUDGE_API_KEY;
  return externalJudge({ url, model, ...(apiKey ? { apiKey } : {}) });
}

/** --retriever bm25 (default; null here: the trainer builds BM25 top-k) | e5 [--encoder PATH] [--index-dir DIR]. */
export async function retrieverFor(args: string[], backend: Backend, world: WorldAssets): Promise<PassageRetriever | null> {
  const kind = option(args, 'retriever') ?? 'bm25';
  if (kind === 'bm25') return null;
  if (kind !== 'e5') throw new Error(`--retriever must be bm25 or e5, got "${kind}"`);
  const { loadEncoderRetriever } = await import('../retrieval/encoder-retriever.ts');
  const { openDenseRetriever } = await import('./retrieval.ts');
  const encoder = await loadEncoderRetriever(option(args, 'encoder'), { backend });
  const dense = await openDenseRetriever(encoder, backend, world.corpus, option(args, 'index-dir') ?? 'indexes');
  log(`retriever: ${encoder.id} dense top-k over ${world.corpus.length} passages`);
  return corpusRetriever(dense, world.corpus);
}

export async function train(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (e) {
    console.error(`train: ${e instanceof Error ? e.message : String(e)}\nusage: ${TRAIN_USAGE}`);
    return e instanceof Error && /^--|TrainConfig|preset/.test(e.message) ? 2 : 1;
  }
}

async function run(args: string[]): Promise<number> {
  const out = option(args, 'out');
  const example = option(args, 'example-step');
  if (!out && !example) throw new Error('--out DIR is required');
  const resume = option(args, 'resume');
  const preset = option(args, 'preset');
  let config: TrainConfig;
  let resumeState: ReturnType<typeof parseRunState> | null = null;
  if (resume) {
    const store = new FileRunStore(join(resume, '..'));
    const id = resume.split('/').filter(Boolean).pop() ?? '';
    const saved = await store.load(id);
    resumeState = parseRunState(saved.bytes, join(resume, 'state.safetensors'));
    config = { ...resumeState.ref.config };
    // The run's config is the saved one: only --steps may change (to run further); other knobs would be ignored.
    const fixed = ['preset', 'model', 'seed', 'backend', 'eval-every', 'judge', 'questions', 'balance', 'lr', 'probe'].filter((k) => args.includes(`--${k}`));
    if (fixed.length > 0) throw new Error(`--resume continues the saved run's config; ${fixed.map((k) => `--${k}`).join(', ')} cannot be changed (only --steps can)`);
    if (option(args, 'steps')) config.steps = integerOption(args, 'steps', config.steps, 1);
  } else {
    if (!preset) throw new Error(`--preset is required (${PRESET_NAMES.join(', ')})`);
    if (!isPresetName(preset)) throw new Error(`--preset: unknown preset "${preset}" (allowed: ${PRESET_NAMES.join(', ')})`);
    const model = option(args, 'model') ?? 'small';
    if (model !== 'tiny' && model !== 'small') throw new Error(`--model must be tiny or small, got "${model}"`);
    const seed = integerOption(args, 'seed', 0);
    const overrides: Partial<TrainConfig> = { seeds: { init: seed, data: seed, sampling: seed }, backend: (option(args, 'backend') ?? 'cpu') as TrainConfig['backend'] };
    if (option(args, 'steps')) overrides.steps = integerOption(args, 'steps', 1, 1);
    if (option(args, 'eval-every')) overrides.evalEvery = integerOption(args, 'eval-every', 0);
    const judgeKind = option(args, 'judge');
    if (judgeKind !== undefined) overrides.judge = judgeKind as TrainConfig['judge']; // validated by presetConfig
    if (option(args, 'questions')) overrides.questionsPerStep = integerOption(args, 'questions', 1, 1);
    const balance = option(args, 'balance');
    if (balance !== undefined) {
      if (balance.trim() === '' || !Number.isFinite(Number(balance))) throw new Error(`--balance must be a number in [0, 1], got "${balance}"`);
      overrides.questionBalance = Number(balance); // range checked by presetConfig
    }
    if (option(args, 'lr')) overrides.lr = positiveNumberOption(args, 'lr', 0); // upper bound checked by presetConfig
    if (option(args, 'probe')) overrides.probeSamples = integerOption(args, 'probe', 0); // counterfactual probe samples per cut (validated by presetConfig)
    if (example) {
      overrides.steps = 1;
      overrides.questionsPerStep ??= 2; // a step the page can load quickly (~1-2 MB of JSON)
    }
    config = presetConfig(preset, model, overrides);
  }
  const backend = await backendFor(config.backend);
  try {
    const world = loadWorldFor(option(args, 'world'), config.model);
    const checkpoint = loadCheckpointFor(option(args, 'checkpoint'), config.model);
    const retriever = await retrieverFor(args, backend, world);
    const judge = externalJudgeFor(args, config);
    let evalPath: string | null = null; // DIR/eval.jsonl: one line per dev evaluation of a split (the curve)
    const tokenizerSlots = resumeState?.binding.tokenizerSlots;
    const { trainer, models } = createTrainer({ config, backend, world, checkpoint, ...(tokenizerSlots ? { tokenizerSlots } : {}), ...(retriever ? { retriever } : {}), ...(judge ? { externalJudge: judge } : {}), onEvent: (e) => {
      if (e.type === 'eval') {
        log(`eval step ${e.step} ${e.split}: em ${e.em.toFixed(3)} format ${e.formatValid.toFixed(2)} (n ${e.n})`);
        if (evalPath) appendFileSync(evalPath, `${JSON.stringify(e)}\n`);
      }
      if (e.type === 'phase' && e.phase === 'reward' && e.judgeFallback) log(`step ${e.step}: ${e.judgeFallback}`);
    } });
    log(`train ${config.preset}: ${backend.info.adapter}; ${models.origin}, ${trainer.policy.parameterCount} parameters; world ${world.source}; ${trainer.pool.length} training questions; ${config.questionsPerStep} x ${config.groupSize} rollouts per step, ${config.steps} steps; rollouts ${trainer.config.rolloutWeights}`);
    if (resumeState) {
      await restoreRunState(trainer, resumeState, models.binding);
      log(`resumed from ${resume} at step ${trainer.stepsDone}`);
    }
    if (example) {
      const rec = await trainer.step();
      writeFileSync(example, `${JSON.stringify({ ...rec, config: trainer.config, warmStart: models.origin })}\n`); // a StepRecord (extra fields: how it was made)
      log(`wrote ${example} (${(statSync(example).size / 1e6).toFixed(2)} MB)`);
      console.log(JSON.stringify({ example: example, step: rec.step, preset: config.preset, seconds: r4(rec.metrics.seconds), em: rec.metrics.em, reward: rec.metrics.reward, trajectories: rec.metrics.trajectories, refine_rate: rec.metrics.refineRate }));
      return 0;
    }
    const dir = out as string;
    mkdirSync(dir, { recursive: true });
    const metricsPath = join(dir, 'metrics.jsonl');
    const trajPath = join(dir, 'trajectories.jsonl');
    evalPath = join(dir, 'eval.jsonl');
    if (!resumeState) {
      writeFileSync(metricsPath, '');
      writeFileSync(trajPath, '');
      writeFileSync(evalPath, '');
    }
    writeFileSync(join(dir, 'config.json'), `${JSON.stringify({ ...trainer.config, warmStart: models.origin, world: world.source }, null, 2)}\n`);
    const store = new FileRunStore(join(dir, 'checkpoints'));
    const saveEvery = integerOption(args, 'save-every', Math.max(1, Math.min(25, config.steps)), 1);
    const t0 = performance.now();
    let last: StepRecord | null = null;
    const startStep = trainer.stepsDone;
    // The curve's first point: the warm start itself, on the same dev questions as the later evaluations.
    if (startStep === 0 && config.evalEvery > 0) await trainer.evaluateDev();
    while (trainer.stepsDone < config.steps) {
      const rec = await trainer.step();
      last = rec;
      const m = rec.metrics;
      appendFileSync(metricsPath, `${JSON.stringify(m)}\n`);
      appendFileSync(trajPath, trajectoryLines(rec));
      const mem = backend.memory?.();
      const memNote = mem ? `; memory ${mib(mem.liveBytes)} MiB live of ${mib(mem.heapBytes)} MiB heap` : '';
      log(`step ${m.step}/${config.steps}: reward ${m.reward.toFixed(3)} em ${m.em.toFixed(3)} refine ${m.refineRate.toFixed(2)} revisions ${m.revisions} kl ${m.kl.toExponential(2)} ${m.seconds.toFixed(1)} s (${Object.entries(m.phaseSeconds).map(([k, v]) => `${k} ${(v ?? 0).toFixed(1)}`).join(', ')})${memNote}`);
      if (m.step % saveEvery === 0 || m.step === config.steps) {
        const id = `step-${String(m.step).padStart(4, '0')}`;
        const s = await saveRunState(trainer, { id, name: `${config.preset} ${id}`, binding: models.binding });
        await store.save(s.ref, s.bytes);
        log(`saved ${join(dir, 'checkpoints', id)}`);
      }
    }
    if (last) writeFileSync(join(dir, 'last-step.json'), `${JSON.stringify(last)}\n`);
    writeFileSync(join(dir, 'policy.safetensors'), await savePolicy(trainer.policy, models.binding, { preset: config.preset, step: String(trainer.stepsDone), role: 'grpo' }));
    const ms = trainer.metrics;
    const ran = ms.slice(startStep);
    const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    console.log(JSON.stringify({
      preset: config.preset,
      model: config.model,
      steps: trainer.stepsDone,
      out: dir,
      backend: backend.info.adapter,
      warm_start: models.origin,
      reward_first: r4(ms[0]?.reward ?? 0),
      reward_last: r4(ms[ms.length - 1]?.reward ?? 0),
      em_first: r4(ms[0]?.em ?? 0),
      em_last: r4(ms[ms.length - 1]?.em ?? 0),
      dev_em: ms.filter((m) => m.devEm).map((m) => ({ step: m.step, ...m.devEm })),
      seconds_per_step: r4(mean(ran.map((m) => m.seconds))),
      trajectories_per_step: r4(mean(ran.map((m) => m.trajectories))),
      tokens_per_step: r4(mean(ran.map((m) => m.tokensGenerated))),
      refine_rate: r4(mean(ran.map((m) => m.refineRate))),
      seconds: r4((performance.now() - t0) / 1000),
    }));
    trainer.dispose();
    return 0;
  } finally {
    backend.dispose();
  }
}

function trajectoryLines(rec: StepRecord): string {
  const rewards = new Map<string, { em: number; f1: number; process: number; reward: number }>();
  const views = new Map<string, { questionId: string; response: string; revision: number; parentId: string | null }>();
  let finals: string[] = [];
  for (const e of rec.events) {
    if (e.phase === 'rollout' || e.phase === 'regenerate') for (const t of e.trajectories) views.set(t.id, t);
    if (e.phase === 'reward') for (const r of e.rewards) rewards.set(r.trajectoryId, r);
    if (e.phase === 'advantage') finals = e.groups.flatMap((g) => g.finalIds);
  }
  return finals
    .map((id) => {
      const v = views.get(id);
      const r = rewards.get(id);
      return `${JSON.stringify({ step: rec.step, id, question_id: v?.questionId, revision: v?.revision, parent: v?.parentId, em: r?.em, f1: r?.f1, process: r?.process, reward: r?.reward, response: v?.response })}\n`;
    })
    .join('');
}
