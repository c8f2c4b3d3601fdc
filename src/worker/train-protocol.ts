// The training worker's typed command surface (exposed with comlink; DESIGN 3: the worker owns the device, the UI
// only renders the events it sends). The same Trainer runs headless in Node behind the CLI.
import type { BackendInfo } from '../engine/types.ts';
import type { Phase, PhaseEvent, StepMetrics, StepRecord, TrainerEvent } from '../rl/events.ts';
import type { SplitQuestions } from '../world/types.ts';

/** Training presets (issue 6): the paper's ablation rows. */
export type TrainPresetName =
  | 'search-r1'
  | 'search-r1+meta-refiner'
  | 'search-r1+meta-refiner+process'
  | 'search-r2'
  | 'search-r1-x2'
  | 'search-r2-rev1'
  | 'search-r2-rev2'
  | 'search-r2-rev3'
  | 'search-r2-rev4';

/** Everything a run depends on; all of it fits in a URL (the UI serializes it) and in results.json. */
export interface TrainConfig {
  preset: TrainPresetName;
  /** Policy size preset of the model being trained ('tiny' in tests, 'small' shipped). */
  model: 'tiny' | 'small' | 'base';
  /** Rollouts per question (G, default 5; 10 for search-r1-x2). */
  groupSize: number;
  /** Questions per GRPO step. */
  questionsPerStep: number;
  /** Revision limit R (1..4). */
  revisionLimit: number;
  reward: 'em' | 'hybrid';
  judge: 'gold-evidence' | 'answer-containment' | 'external';
  /** Meta-Refiner on (search-r2 and +meta-refiner presets) and trained jointly (search-r2 only). */
  refiner: boolean;
  trainRefiner: boolean;
  lr: number;
  klBeta: number;
  temperature: number;
  seeds: { init: number; data: number; sampling: number };
  backend: 'webgpu' | 'cpu';
  /** Steps of the run (the schedule). */
  steps: number;
  /** Evaluate dev EM every N steps (0: never). */
  evalEvery: number;
  // ---- optional knobs (additive; src/rl/presets.ts fills the defaults, validateConfig checks the ranges) ----
  /** Discriminator intervention cost lambda (DESIGN 4.4, default 0.05). */
  interventionCost?: number;
  /** Evaluation threshold on alpha (default 0.5). */
  tau?: number;
  /** PPO clip epsilon below / above 1 (default 0.2 / 0.2; clip-higher: 0.28). */
  clipLow?: number;
  clipHigh?: number;
  aggregation?: 'token-mean' | 'seq-mean-token-mean' | 'dr-grpo';
  /** Loss weights of the Discriminator and Trimmer decision tokens in the joint loss (default 1 each). */
  judgeLossWeight?: number;
  trimLossWeight?: number;
  /** Passages per search (default 3). */
  topK?: number;
  /** Tokens one Actor turn may generate (default 96). */
  maxTurnTokens?: number;
  /** Rollout weights: 'int8' (DESIGN 4.4) or 'fp32'; default int8 on webgpu, fp32 on cpu (faster there). */
  rolloutWeights?: 'int8' | 'fp32';
  /** Counterfactual probe samples per cut point of each rejected trajectory (0: no probe; default 0). */
  probeSamples?: number;
  /** Gradient clip (global norm, default 1; 0: none) and optimizer mini-batches per step (default 1). */
  maxGradNorm?: number;
  miniBatches?: number;
  /** Dev questions per split in the periodic evaluations (default 50). */
  evalLimit?: number;
  /** Only the first N training questions (after the data-seed shuffle) are drawn (default: all). */
  trainSubset?: number;
  /**
   * Relation-balanced questions: each question of a step picks a relation chain (its split and chain, e.g.
   * "hotpotqa:located_in/capital") with probability ~ count^A, then a question of that chain uniformly (with
   * replacement, from the data seed's stream of the step). 0: every chain alike, as dev and test are; 1: the training
   * lists' own proportions (three quarters two chains per split). Absent: epochs over the shuffled pool.
   */
  questionBalance?: number;
}

/** Where a run can be resumed from. */
export interface SavedRunRef {
  id: string;
  name: string;
  step: number;
  savedAt: string;
  config: TrainConfig;
}

export interface SuiteProgress {
  suite: 'smoke' | 'paper';
  done: number;
  total: number;
  /** Current preset and seed. */
  preset: string;
  seed: number;
  /** Estimated seconds left, from the steps measured so far. */
  etaSeconds: number | null;
}

/**
 * Where init() takes the world and the warm start from (additive, optional): given data wins, then URLs, then the
 * shipped assets (`<base>world/` and `<base>policy/model.safetensors`, base = the app's base URL). Without a
 * checkpoint anywhere a fresh policy of config.model is trained (and a status event says so).
 */
export interface TrainAssets {
  world?: { corpus: { id: string; contents: string }[]; questions: SplitQuestions };
  /** A directory URL holding world.json, corpus.jsonl and <split>/<part>.jsonl (world build's layout). */
  worldUrl?: string;
  checkpoint?: Uint8Array;
  /** Default: the shipped small policy for model 'small'/'base'; model 'tiny' starts fresh unless this is given. */
  checkpointUrl?: string;
  /** Start from a fresh policy of config.model (seeds.init) whatever is shipped. */
  freshPolicy?: boolean;
  /** IndexedDB database for saved runs (default "search-r2"; tests use their own). */
  dbName?: string;
}

export interface TrainerWorkerApi {
  /** Loads the world, index and warm-start checkpoint (progress events), starts the backend. */
  init(config: TrainConfig, onEvent: (e: TrainerEvent) => void, assets?: TrainAssets): Promise<{ backend: BackendInfo; questions: number; parameters: number }>;
  /** Runs steps until paused, stopped or `config.steps` is reached. */
  start(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** One whole GRPO step (all remaining phases of the current step). */
  step(): Promise<StepRecord>;
  /** The next phase of the current step (starting a new step after `update`). */
  stepPhase(): Promise<PhaseEvent>;
  /** The phase the next stepPhase() will run. */
  nextPhase(): Promise<Phase>;
  stop(): Promise<void>;
  /** Saves the run state (weights, optimizer, RNG streams, step) transactionally; returns its id. */
  save(name?: string): Promise<SavedRunRef>;
  load(id: string): Promise<SavedRunRef>;
  listRuns(): Promise<SavedRunRef[]>;
  deleteRun(id: string): Promise<void>;
  metrics(): Promise<StepMetrics[]>;
  /** Runs an ablation suite in the worker; resolves with results.json's content. */
  runSuite(suite: 'smoke' | 'paper', opts: { seeds?: number; steps?: number }, onProgress: (p: SuiteProgress) => void): Promise<unknown>;
}
