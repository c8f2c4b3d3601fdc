// Run state: everything a run needs to continue with the same numbers (issue 6 "Checkpoints and resume"), as one
// safetensors file:
//   tensors  policy/<param>, reference/<param>, adam_m/<param>, adam_v/<param>   (F32; moments only where the
//            optimizer has taken them)
//   metadata format "search-r2-run", version "1", config (TrainConfig JSON), step (steps completed), adam_step,
//            metrics (StepMetrics[] JSON), binding (tokenizer and world hashes), rng (the random streams, below),
//            id, name, saved_at.
// RNG streams: every random draw of step s is keyed by (seeds, s) (trainer.ts header), so the streams are fully
// described by the config's seeds and the step counter; `rng` records that scheme so a reader can check it. The
// decoder's int8 weights are derived (re-taken after loading). A resumed run on the cpu backend gives bit-identical
// numbers to an uninterrupted one (tests/unit/train-resume.test.ts).
import type { Tensor } from '../engine/types.ts';
import type { Var } from '../engine/tape.ts';
import type { PolicyBinding } from '../model/policy.ts';
import { floatData, readSafetensors, type TensorToWrite, writeSafetensors } from '../model/safetensors.ts';
import type { SavedRunRef, TrainConfig } from '../worker/train-protocol.ts';
import type { StepMetrics } from './events.ts';
import type { Trainer } from './trainer.ts';

export const RUN_FORMAT = 'search-r2-run';
export const RUN_VERSION = '1';
export const RNG_SCHEME = 'per-step streams: streamSeed(seeds.sampling|data, "<purpose>:<step>[:<round>]")';

export class RunStateError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunStateError';
  }
}

/** The optimizer's moment maps (AdamW keeps them private; bracket access reads them without widening its API). */
function moments(t: Trainer): { m: Map<Var, Tensor>; v: Map<Var, Tensor> } {
  return { m: t.optimizer['m'], v: t.optimizer['v'] };
}

export interface RunStateMeta {
  id: string;
  name: string;
  binding: PolicyBinding;
}

/** Serializes the trainer's state (between steps). */
export async function saveRunState(t: Trainer, meta: RunStateMeta): Promise<{ bytes: Uint8Array; ref: SavedRunRef }> {
  if (t.nextPhase() !== 'rollout') throw new RunStateError('step', `cannot save in the middle of step ${t.stepsDone + 1} (next phase: ${t.nextPhase()}); finish or abort the step first`);
  const ops = t.backend.ops;
  const tensors = new Map<string, TensorToWrite>();
  const { m, v } = moments(t);
  for (const p of t.policy.params) {
    tensors.set(`policy/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: await ops.readF32(p.value) });
    const mm = m.get(p);
    const vv = v.get(p);
    if (mm && vv) {
      tensors.set(`adam_m/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: await ops.readF32(mm) });
      tensors.set(`adam_v/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: await ops.readF32(vv) });
    }
  }
  for (const p of t.reference.params) tensors.set(`reference/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: await ops.readF32(p.value) });
  const savedAt = new Date().toISOString();
  const config: TrainConfig = { ...t.config };
  const bytes = writeSafetensors(tensors, {
    format: RUN_FORMAT,
    version: RUN_VERSION,
    id: meta.id,
    name: meta.name,
    saved_at: savedAt,
    config: JSON.stringify(config),
    model_config: JSON.stringify(t.policy.config),
    step: String(t.stepsDone),
    adam_step: String(t.optimizer.step),
    metrics: JSON.stringify(t.metrics),
    binding: JSON.stringify(meta.binding),
    rng: JSON.stringify({ scheme: RNG_SCHEME, seeds: config.seeds, step: t.stepsDone }),
  });
  return { bytes, ref: { id: meta.id, name: meta.name, step: t.stepsDone, savedAt, config } };
}

export interface ParsedRunState {
  ref: SavedRunRef;
  binding: PolicyBinding;
  metrics: StepMetrics[];
  adamStep: number;
  tensors: ReturnType<typeof readSafetensors>['tensors'];
  source: string;
}

function json<T>(md: Record<string, string>, key: string, source: string): T {
  try {
    return JSON.parse(md[key] ?? '') as T;
  } catch {
    throw new RunStateError(key, `run state ${source}: metadata "${key}" is missing or not JSON`);
  }
}

export function parseRunState(bytes: Uint8Array, source: string): ParsedRunState {
  const f = readSafetensors(bytes, source);
  const md = f.metadata;
  if (md.format !== RUN_FORMAT) throw new RunStateError('format', `run state ${source}: format ${JSON.stringify(md.format)}, expected "${RUN_FORMAT}"`);
  if (md.version !== RUN_VERSION) throw new RunStateError('version', `run state ${source}: version ${JSON.stringify(md.version)}, this code reads ${RUN_VERSION}`);
  const step = Number(md.step);
  const adamStep = Number(md.adam_step);
  if (!Number.isInteger(step) || step < 0) throw new RunStateError('step', `run state ${source}: step ${JSON.stringify(md.step)} is not a non-negative integer`);
  if (!Number.isInteger(adamStep) || adamStep < 0) throw new RunStateError('adam_step', `run state ${source}: adam_step ${JSON.stringify(md.adam_step)} is not a non-negative integer`);
  const config = json<TrainConfig>(md, 'config', source);
  return {
    ref: { id: md.id ?? '', name: md.name ?? '', step, savedAt: md.saved_at ?? '', config },
    binding: json<PolicyBinding>(md, 'binding', source),
    metrics: json<StepMetrics[]>(md, 'metrics', source),
    adamStep,
    tensors: f.tensors,
    source,
  };
}

/** Loads a parsed state into a trainer built with the same config, world and model shape. */
export async function restoreRunState(t: Trainer, s: ParsedRunState, binding: PolicyBinding): Promise<void> {
  if (s.binding.tokenizerHash !== binding.tokenizerHash)
    throw new RunStateError('binding', `run state ${s.source}: saved with tokenizer ${s.binding.tokenizerHash}, the current one is ${binding.tokenizerHash}`);
  if (s.binding.worldHash !== binding.worldHash)
    throw new RunStateError('binding', `run state ${s.source}: saved on world ${s.binding.worldHash}, the current one is ${binding.worldHash}`);
  const ops = t.backend.ops;
  const get = (name: string): Float32Array => {
    const x = s.tensors.get(name);
    if (!x) throw new RunStateError('tensors', `run state ${s.source}: tensor '${name}' is missing`);
    return floatData(x, name, s.source);
  };
  const check = (name: string, data: Float32Array, size: number): Float32Array => {
    if (data.length !== size) throw new RunStateError('tensors', `run state ${s.source}: tensor '${name}' has ${data.length} values, the model needs ${size}`);
    return data;
  };
  t.abortStep();
  const { m, v } = moments(t);
  for (const tt of [...m.values(), ...v.values()]) ops.dispose(tt);
  m.clear();
  v.clear();
  for (const p of t.policy.params) {
    ops.write(p.value, check(`policy/${p.name}`, get(`policy/${p.name}`), p.value.size));
    if (s.tensors.has(`adam_m/${p.name}`)) {
      m.set(p, ops.tensor(check(`adam_m/${p.name}`, get(`adam_m/${p.name}`), p.value.size), [...p.shape]));
      v.set(p, ops.tensor(check(`adam_v/${p.name}`, get(`adam_v/${p.name}`), p.value.size), [...p.shape]));
    }
  }
  for (const p of t.reference.params) ops.write(p.value, check(`reference/${p.name}`, get(`reference/${p.name}`), p.value.size));
  t.optimizer.step = s.adamStep;
  t.stepsDone = s.ref.step;
  t.metrics.splice(0, t.metrics.length, ...s.metrics);
  await t.weightsChanged();
}

// ---- stores ----

/** Where run states live: files in Node (run-store-file.ts), IndexedDB in the browser (run-store-idb.ts). */
export interface RunStore {
  save(ref: SavedRunRef, bytes: Uint8Array): Promise<void>;
  load(id: string): Promise<{ ref: SavedRunRef; bytes: Uint8Array }>;
  list(): Promise<SavedRunRef[]>;
  delete(id: string): Promise<void>;
}

/** An in-memory store (tests, and the worker when IndexedDB is unavailable). */
export class MemoryRunStore implements RunStore {
  private readonly runs = new Map<string, { ref: SavedRunRef; bytes: Uint8Array }>();
  async save(ref: SavedRunRef, bytes: Uint8Array): Promise<void> {
    this.runs.set(ref.id, { ref: structuredClone(ref), bytes: bytes.slice() });
  }
  async load(id: string): Promise<{ ref: SavedRunRef; bytes: Uint8Array }> {
    const r = this.runs.get(id);
    if (!r) throw new RunStateError('id', `no saved run "${id}"`);
    return { ref: structuredClone(r.ref), bytes: r.bytes.slice() };
  }
  async list(): Promise<SavedRunRef[]> {
    return [...this.runs.values()].map((r) => structuredClone(r.ref));
  }
  async delete(id: string): Promise<void> {
    this.runs.delete(id);
  }
}
