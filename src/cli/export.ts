// `export --format search-r1 [--world DIR] [--preset P] --out DIR` (DESIGN 9, issue 6 "Scale-out"): the world's
// questions and corpus in Search-R1's formats (src/world/searchr1.ts) plus what it takes to run the same experiment
// on Search-R1 / verl with GPUs: DIR/train.jsonl and DIR/test.jsonl (Search-R1's nq_hotpotqa_train layout: the
// training splits' train parts; every split's test part), DIR/launch/config.json (our preset's knobs mapped onto
// verl's GRPO options) and DIR/launch/train_grpo.sh (the Search-R1 launch command with those options, a retriever
// server over corpus.jsonl with e5 top-3). Without --world the default world (seed 0) is built in memory and
// written to DIR/world first. Last stdout line: one JSON object.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPresetName, PRESET_NAMES, presetConfig } from '../rl/presets.ts';
import { buildWorld } from '../world/build.ts';
import { readWorld, writeWorld } from '../world/format.ts';
import { toJsonl } from '../world/jsonl.ts';
import { exportSearchR1, toSearchR1 } from '../world/searchr1.ts';
import { loadSources } from '../world/sources.ts';
import { SPLITS, TRAINING_SPLITS } from '../world/types.ts';
import { option } from './args.ts';

export const EXPORT_USAGE = 'export --format search-r1 [--world DIR] [--preset P] --out DIR';

export async function exportCommand(args: string[]): Promise<number> {
  const fail = (m: string): number => {
    console.error(`export: ${m}\nusage: ${EXPORT_USAGE}`);
    return 2;
  };
  const format = option(args, 'format');
  if (format !== 'search-r1') return fail(`--format must be search-r1, got ${JSON.stringify(format ?? null)}`);
  const out = option(args, 'out');
  if (!out) return fail('--out DIR is required');
  const preset = option(args, 'preset') ?? 'search-r1';
  if (!isPresetName(preset)) return fail(`--preset: unknown preset "${preset}" (allowed: ${PRESET_NAMES.join(', ')})`);
  try {
    const t0 = performance.now();
    let worldDir = option(args, 'world');
    if (!worldDir) {
      worldDir = join(out, 'world');
      if (!existsSync(join(worldDir, 'world.json'))) {
        console.error('export: building the default world (seed 0)');
        writeWorld(worldDir, buildWorld({ seed: 0, size: 'default', sources: loadSources() }).world);
      }
    }
    const dataDir = join(out, 'data');
    const r = exportSearchR1(worldDir, dataDir);
    const w = readWorld(worldDir);
    // Search-R1's merged files: train = the training splits' train parts, test = every split's test part.
    writeFileSync(join(dataDir, 'train.jsonl'), toJsonl(TRAINING_SPLITS.flatMap((s) => w.questions[s].train.map((q) => toSearchR1(q, s)))));
    writeFileSync(join(dataDir, 'test.jsonl'), toJsonl(SPLITS.flatMap((s) => w.questions[s].test.map((q) => toSearchR1(q, s)))));
    const c = presetConfig(preset, 'small');
    const launch = join(out, 'launch');
    mkdirSync(launch, { recursive: true });
    const verl = {
      preset,
      note: 'Search-R1/verl GRPO options for the same experiment at scale. The Meta-Refiner (judge/trim/regenerate) has no Search-R1 counterpart; presets with a refiner map to their Search-R1 base here.',
      data: { train_files: 'data/train.jsonl', val_files: 'data/test.jsonl', corpus: 'data/corpus.jsonl', max_prompt_length: 4096, max_response_length: 500, max_start_length: 2048, max_obs_length: 500 },
      retriever: { name: 'e5', topk: 3, corpus: 'data/corpus.jsonl', note: 'build the index with Search-R1/search_r1/search/index_builder.py (e5-base-v2)' },
      algorithm: { adv_estimator: 'grpo', kl_ctrl: { kl_coef: c.klBeta }, no_think_rl: false },
      actor_rollout_ref: {
        rollout: { n_agent: c.groupSize, temperature: c.temperature },
        actor: { optim: { lr: 1e-6 }, use_kl_loss: true, kl_loss_coef: c.klBeta, kl_loss_type: 'low_var_kl', clip_ratio: c.clipLow ?? 0.2, loss_agg_mode: 'token-mean', state_masking: true },
      },
      max_turns: 4,
      trainer: { total_training_steps: 300, project_name: 'search-r2-playground-export', experiment_name: preset },
      reward: preset.includes('process') || preset.startsWith('search-r2') ? 'hybrid: em * (1 + useful/searches) with supporting_ids in metadata' : 'em',
    };
    writeFileSync(join(launch, 'config.json'), `${JSON.stringify(verl, null, 2)}\n`);
    const sh = [
      '#!/usr/bin/env bash',
      '# Run from a Search-R1 checkout (https://github.com/PeterGriffinJin/Search-R1) with this export at $EXPORT.',
      '# 1) retriever: index data/corpus.jsonl with e5 and serve top-3 (Search-R1 search_r1/search/retrieval_server.py).',
      '# 2) GRPO training with the options of launch/config.json:',
      'set -euo pipefail',
      'EXPORT=${EXPORT:-$(cd "$(dirname "$0")/.." && pwd)}',
      'python3 -m verl.trainer.main_ppo \\',
      '  data.train_files=$EXPORT/data/train.jsonl data.val_files=$EXPORT/data/test.jsonl \\',
      '  data.max_prompt_length=4096 data.max_response_length=500 data.max_start_length=2048 data.max_obs_length=500 \\',
      '  algorithm.adv_estimator=grpo algorithm.kl_ctrl.kl_coef=' + c.klBeta + ' \\',
      '  actor_rollout_ref.actor.optim.lr=1e-6 actor_rollout_ref.actor.use_kl_loss=true \\',
      '  actor_rollout_ref.actor.kl_loss_coef=' + c.klBeta + ' actor_rollout_ref.actor.kl_loss_type=low_var_kl \\',
      '  actor_rollout_ref.actor.state_masking=true actor_rollout_ref.rollout.n_agent=' + c.groupSize + ' \\',
      '  actor_rollout_ref.rollout.temperature=' + c.temperature + ' max_turns=4 retriever.url=http://127.0.0.1:8000/retrieve retriever.topk=3 \\',
      '  trainer.total_training_steps=300 trainer.project_name=search-r2-playground-export trainer.experiment_name=' + preset + ' "$@"',
      '',
    ].join('\n');
    writeFileSync(join(launch, 'train_grpo.sh'), sh, { mode: 0o755 });
    console.error(`export: ${r.questions} questions and ${r.passages} passages to ${dataDir}; launch config in ${launch}`);
    console.log(JSON.stringify({ format, out, world: worldDir, questions: r.questions, passages: r.passages, files: [...r.files.map((f) => `data/${f}`), 'data/train.jsonl', 'data/test.jsonl', 'launch/config.json', 'launch/train_grpo.sh'], seconds: (performance.now() - t0) / 1000 }));
    return 0;
  } catch (e) {
    console.error(`export: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
