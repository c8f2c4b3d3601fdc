// Builds a Trainer from plain assets (a world's corpus and questions, an optional policy checkpoint), the same way in
// the Node CLI and in the training worker: the policy tokenizer of the world, the warm start loaded twice (the
// trained policy and the frozen reference), BM25 top-k retrieval over the corpus.
import { bm25PassageRetriever, type PassageRetriever } from '../agent/rollout.ts';
import { buildWorldTokenizer } from '../agent/sft-data.ts';
import type { Backend } from '../engine/types.ts';
import { checkpointTokenizerSlots, createPolicy, loadPolicy, policyBinding, worldHash, type PolicyBinding } from '../model/policy.ts';
import type { Transformer } from '../model/transformer.ts';
import type { ProcessJudge } from '../reward/judges.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import type { TrainConfig } from '../worker/train-protocol.ts';
import type { CorpusRecord, Question, SplitQuestions } from '../world/types.ts';
import { PARTS, SPLITS } from '../world/types.ts';
import type { TrainerEvent } from './events.ts';
import { Trainer } from './trainer.ts';

export interface WorldAssets {
  corpus: CorpusRecord[];
  questions: SplitQuestions;
}

export interface CheckpointAsset {
  bytes: Uint8Array;
  /** Where it came from (for error messages). */
  source: string;
}

export interface TrainerSetup {
  config: TrainConfig;
  backend: Backend;
  world: WorldAssets;
  /** The warm start; null: a fresh policy of config.model from seeds.init (tests, or before a checkpoint ships). */
  checkpoint: CheckpointAsset | null;
  /** Default: buildWorldTokenizer over the world (what `cli pretrain` uses). */
  tokenizer?: PolicyTokenizer;
  /** Entity slots of that default tokenizer (a resumed run's binding); default: the checkpoint's, else none. */
  tokenizerSlots?: number;
  retriever?: PassageRetriever;
  externalJudge?: ProcessJudge;
  onEvent?: (e: TrainerEvent) => void;
}

export function allQuestions(q: SplitQuestions): Question[] {
  return SPLITS.flatMap((s) => PARTS.flatMap((p) => q[s]?.[p] ?? []));
}

export interface LoadedModels {
  tokenizer: PolicyTokenizer;
  binding: PolicyBinding;
  policy: Transformer;
  reference: Transformer;
  /** "checkpoint <source>" or "fresh <preset> (seed N)". */
  origin: string;
}

export function loadModels(s: Pick<TrainerSetup, 'config' | 'backend' | 'world' | 'checkpoint' | 'tokenizer' | 'tokenizerSlots'>): LoadedModels {
  // Without a tokenizer given: the world's, with the entity slots the run state or checkpoint was trained with.
  const slots = s.tokenizerSlots ?? (s.checkpoint ? checkpointTokenizerSlots(s.checkpoint.bytes, s.checkpoint.source) : 0);
  const tokenizer = s.tokenizer ?? buildWorldTokenizer(s.world.corpus, allQuestions(s.world.questions), { slots });
  const binding: PolicyBinding = policyBinding(tokenizer, worldHash(s.world.corpus));
  const ops = s.backend.ops;
  if (s.checkpoint) {
    const a = loadPolicy(ops, s.checkpoint.bytes, s.checkpoint.source, { expect: binding });
    const b = loadPolicy(ops, s.checkpoint.bytes, s.checkpoint.source, { expect: binding });
    return { tokenizer, binding, policy: a.model, reference: b.model, origin: `checkpoint ${s.checkpoint.source}` };
  }
  const seed = s.config.seeds.init;
  return {
    tokenizer,
    binding,
    policy: createPolicy(ops, s.config.model, tokenizer.size, seed),
    reference: createPolicy(ops, s.config.model, tokenizer.size, seed),
    origin: `fresh ${s.config.model} policy (seed ${seed})`,
  };
}

export function createTrainer(s: TrainerSetup): { trainer: Trainer; models: LoadedModels } {
  const models = loadModels(s);
  const trainer = new Trainer({
    config: s.config,
    backend: s.backend,
    tokenizer: models.tokenizer,
    questions: s.world.questions,
    policy: models.policy,
    reference: models.reference,
    retriever: s.retriever ?? bm25PassageRetriever(s.world.corpus),
    ...(s.externalJudge ? { externalJudge: s.externalJudge } : {}),
    ...(s.onEvent ? { onEvent: s.onEvent } : {}),
  });
  return { trainer, models };
}
