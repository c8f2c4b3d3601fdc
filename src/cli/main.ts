// The Node entry: `npm run cli -- <command>`. Progress goes to stderr; a command that measures ends with one
// JSON object on the last stdout line.
import { encoder } from './encoder.ts';
import { evalCommand } from './eval.ts';
import { expert } from './expert.ts';
import { pretrain } from './pretrain.ts';
import { retrieval } from './retrieval.ts';
import { selftest } from './selftest.ts';
import { world } from './world.ts';
import { train } from './train.ts';
import { ablate } from './ablate.ts';
import { exportCommand } from './export.ts';

const COMMANDS: Record<string, { help: string; run: (args: string[]) => Promise<number> }> = {
  selftest: { help: 'selftest [--kernel NAME]   run every WGSL kernel against the CPU reference on Dawn (WebGPU in Node)', run: selftest },
  world: { help: 'world build [--seed N] [--size tiny|default] --out DIR   build the knowledge world; also world export|import (Search-R1 formats)', run: world },
  retrieval: { help: 'retrieval eval --world DIR --retriever e5|bm25 [--encoder PATH] --split S [--part P] [--limit N]   recall@3 of a retriever', run: retrieval },
  encoder: { help: 'encoder train [--world DIR] [--seed N] [--preset small|tiny] [--steps N] --out DIR   train the E5-style encoder; also encoder export-onnx', run: encoder },
  pretrain: { help: 'pretrain [--preset tiny|small] [--world DIR] [--seed N] [--steps N | --minutes M] --out DIR   SFT warm start of the policy (Actor + Discriminator + Trimmer)', run: pretrain },
  eval: { help: 'eval [--checkpoint PATH] [--world DIR] --split S|all [--limit N] [--seed N] [--part dev|test] [--no-retrieval]; eval refiner [...]   greedy EM/F1/format/searches per split; Discriminator and Trimmer accuracy', run: evalCommand },
  train: { help: 'train --preset P [--steps N] [--seed N] [--model tiny|small] [--checkpoint PATH] [--world DIR] [--resume DIR] --out DIR   GRPO training (metrics.jsonl, checkpoints, trajectories)', run: train },
  ablate: { help: 'ablate --suite paper|smoke [--seeds K] [--steps N] [--eval-refiner] --out DIR   the ablation suite: results.json, results.csv, results.md', run: ablate },
  export: { help: 'export --format search-r1 [--world DIR] --out DIR   data + corpus + a launch config for Search-R1/verl', run: exportCommand },
  expert: { help: 'expert report|show|vocab --world DIR ...   the scripted expert (BM25 top-3), flawed variants, policy vocabulary and SFT data', run: expert },
};

function usage(): string {
  return ['usage: npm run cli -- <command> [options]', '', 'commands:', ...Object.values(COMMANDS).map((c) => `  ${c.help}`)].join('\n');
}

export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (!cmd || cmd === '--help' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 2;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`unknown command "${cmd}"\n\n${usage()}`);
    return 2;
  }
  return c.run(rest);
}
