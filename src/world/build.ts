// Builds a world, deterministically from (seed, size): entities -> passages -> question families -> splits.
import { buildKb } from './kb.ts';
import { bamboogleCandidates } from './questions/bamboogle.ts';
import type { Candidate, GenContext } from './questions/common.ts';
import { HOTPOT_PAIRS, hotpotCandidates } from './questions/hotpotqa.ts';
import { musiqueCandidates } from './questions/musique.ts';
import { nqCandidates } from './questions/nq.ts';
import { popqaCandidates } from './questions/popqa.ts';
import { triviaCandidates } from './questions/triviaqa.ts';
import { twoWikiCandidates } from './questions/twowiki.ts';
import { stream } from './random.ts';
import { selectEntities } from './select.ts';
import { assignPartitions, type Caps, makeSplits, type SplitStats } from './splits.ts';
import type { EntityKind, Part, SplitName, Sources, World, WorldManifest, WorldSize } from './types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from './types.ts';

export const CAPS: Record<WorldSize, Caps> = {
  default: { train: 10_000, dev: 500, test: 500, minTest: 100 },
  tiny: { train: 300, dev: 40, test: 40, minTest: 1 },
};

const GENERATORS: Record<SplitName, (ctx: GenContext) => Candidate[]> = {
  nq: nqCandidates,
  triviaqa: triviaCandidates,
  popqa: popqaCandidates,
  hotpotqa: hotpotCandidates,
  '2wiki': twoWikiCandidates,
  musique: musiqueCandidates,
  bamboogle: bamboogleCandidates,
};

export interface BuildOptions {
  seed: number;
  size: WorldSize;
  sources: Sources;
  log?: (line: string) => void;
}

export interface BuildResult {
  world: World;
  stats: Record<SplitName, SplitStats>;
}

export function buildWorld(opts: BuildOptions): BuildResult {
  const { seed, size, sources } = opts;
  const log = opts.log ?? ((): void => {});
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be an integer in 0..2^32-1, got ${seed}`);
  const sel = selectEntities(sources, size, stream(seed, 'select'));
  const kb = buildKb(sources, sel);
  log(`world: ${kb.passages.length} passages (${sel.countries.length} countries, ${sel.cities.length} cities, ${sel.synsets.length} WordNet entries)`);
  const partition = assignPartitions(kb, stream(seed, 'partition'));
  const partitionOf = (id: string): Part => {
    const p = partition.get(id);
    if (!p) throw new Error(`no partition for ${id}`);
    return p;
  };
  const candidates = {} as Record<SplitName, Candidate[]>;
  for (const split of SPLITS) {
    candidates[split] = GENERATORS[split]({ kb, rng: stream(seed, `questions:${split}`), partitionOf });
    log(`world: ${split}: ${candidates[split].length} candidate questions`);
  }
  const caps = CAPS[size];
  const { questions, stats } = makeSplits(kb, candidates, partition, caps, (split) => stream(seed, `sample:${split}`));

  // The contract: training splits have train/dev/test, every split has test (and dev) questions.
  for (const split of SPLITS) {
    const n = questions[split];
    if (n.test.length < caps.minTest) throw new Error(`world: split ${split} has ${n.test.length} test questions, fewer than ${caps.minTest}`);
    if (n.dev.length < 1) throw new Error(`world: split ${split} has no dev questions`);
    if (TRAINING_SPLITS.includes(split) && n.train.length < caps.minTest) throw new Error(`world: split ${split} has ${n.train.length} train questions`);
  }
  // Bamboogle-like pairs never occur in the training data.
  const trainingPairs = new Set<string>();
  for (const split of TRAINING_SPLITS)
    for (const q of questions[split].train) for (let i = 0; i + 1 < q.relations.length; i++) trainingPairs.add(`${q.relations[i]}>${q.relations[i + 1]}`);
  for (const part of PARTS)
    for (const q of questions.bamboogle[part]) {
      const pair = q.relations.join('>');
      if (trainingPairs.has(pair)) throw new Error(`world: Bamboogle question ${q.id} composes ${pair}, a training pair`);
    }

  const byKind: Record<EntityKind, number> = { country: 0, city: 0, wordnet: 0 };
  for (const p of kb.passages) byKind[p.kind]++;
  const lookalikeSet = new Set(kb.lookalikeNames);
  const splitCounts = {} as Record<SplitName, Record<Part, number>>;
  const files = { corpus: 'corpus.jsonl', splits: {} as Record<SplitName, Record<Part, string>> };
  let total = 0;
  for (const split of SPLITS) {
    splitCounts[split] = { train: questions[split].train.length, dev: questions[split].dev.length, test: questions[split].test.length };
    files.splits[split] = { train: `${split}/train.jsonl`, dev: `${split}/dev.jsonl`, test: `${split}/test.jsonl` };
    total += splitCounts[split].train + splitCounts[split].dev + splitCounts[split].test;
  }
  const manifest: WorldManifest = {
    format: 'search-r2-world',
    version: 1,
    seed,
    size,
    sources: sources.packages,
    counts: {
      passages: kb.passages.length,
      passages_by_kind: byKind,
      lookalike_names: kb.lookalikeNames.length,
      lookalike_passages: kb.cities.filter((c) => lookalikeSet.has(c.name)).length,
      splits: splitCounts,
      questions: total,
    },
    files,
    training_relation_pairs: [...new Set([...HOTPOT_PAIRS, ...trainingPairs])].sort(),
  };
  return { world: { passages: kb.passages, questions, manifest }, stats };
}
