// The training worker (DESIGN 3; issue 6): implements TrainerWorkerApi with comlink. The worker owns the device
// (createBestBackend: WebGPU, falling back to the CPU backend with the reason; config.backend 'cpu' asks for the
// CPU backend directly). It loads the world (given data, a URL, or the shipped public/world/), the warm start (given
// bytes, a URL, or the shipped public/policy/model.safetensors by fetch) and runs the same Trainer as the Node CLI.
// Saved runs go to IndexedDB (src/rl/run-store-idb.ts; memory when IndexedDB is unavailable).
import * as Comlink from 'comlink';
import { createBackend, createBestBackend } from '../engine/create.ts';
import type { Backend } from '../engine/types.ts';
import type { PhaseEvent, StepRecord, TrainerEvent } from '../rl/events.ts';
import { parseRunState, restoreRunState, saveRunState, MemoryRunStore, type RunStore } from '../rl/run-state.ts';
import { IdbRunStore } from '../rl/run-store-idb.ts';
import { validateConfig } from '../rl/presets.ts';
import { runSuite } from '../rl/suite.ts';
import type { Trainer } from '../rl/trainer.ts';
import { type CheckpointAsset, createTrainer, type LoadedModels, type WorldAssets } from '../rl/trainer-setup.ts';
import type { CorpusRecord, Part, Question, SplitQuestions } from '../world/types.ts';
import { PARTS, SPLITS } from '../world/types.ts';
import type { TrainAssets, TrainConfig, TrainerWorkerApi } from './train-protocol.ts';

let backend: Backend | null = null;
let trainer: Trainer | null = null;
let models: LoadedModels | null = null;
let world: WorldAssets | null = null;
let checkpoint: CheckpointAsset | null = null;
let emit: (e: TrainerEvent) => void = () => {};
let store: RunStore | null = null;
let dbName: string | undefined;
let running = false;
let pauseRequested = false;
let stopRequested = false;
/** Serializes trainer calls: a step and a phase never interleave. */
let queue: Promise<unknown> = Promise.resolve();

function serial<T>(f: () => Promise<T>): Promise<T> {
  const p = queue.then(f, f);
  queue = p.catch(() => undefined);
  return p;
}

const base = (): string => (import.meta.env?.BASE_URL as string | undefined) ?? '/';

function parseLines<T>(text: string, file: string, check: (v: unknown, line: number) => T): T[] {
  const out: T[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    out.push(check(v, i + 1));
  });
  return out;
}

async function fetchText(url: string): Promise<string | null> {
  const r = await fetch(url);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

/** A world directory served over HTTP (world build's layout). */
async function fetchWorld(dirUrl: string): Promise<WorldAssets | null> {
  const dir = dirUrl.endsWith('/') ? dirUrl : `${dirUrl}/`;
  const corpusText = await fetchText(`${dir}corpus.jsonl`);
  if (corpusText === null) return null;
  const corpus = parseLines<CorpusRecord>(corpusText, `${dir}corpus.jsonl`, (v, line) => {
    const o = v as Partial<CorpusRecord>;
    if (typeof o?.id !== 'string' || typeof o.contents !== 'string') throw new Error(`${dir}corpus.jsonl:${line}: needs string fields id and contents`);
    return { id: o.id, contents: o.contents };
  });
  const questions = {} as SplitQuestions;
  for (const s of SPLITS) {
    questions[s] = {} as Record<Part, Question[]>;
    for (const p of PARTS) {
      const f = `${dir}${s}/${p}.jsonl`;
      const t = await fetchText(f);
      questions[s][p] = t === null ? [] : parseLines<Question>(t, f, (v, line) => {
        const q = v as Partial<Question>;
        if (typeof q?.id !== 'string' || typeof q.question !== 'string' || !Array.isArray(q.golden_answers) || !Array.isArray(q.supporting_ids))
          throw new Error(`${f}:${line}: needs id, question, golden_answers[], supporting_ids[]`);
        return { id: q.id, question: q.question, golden_answers: q.golden_answers, supporting_ids: q.supporting_ids, hops: q.hops ?? 1, family: q.family ?? '', relations: q.relations ?? [] };
      });
    }
  }
  return { corpus, questions };
}

async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  const type = r.headers.get('content-type') ?? '';
  if (type.includes('text/html')) return null; // a dev server's SPA fallback, not a checkpoint
  return new Uint8Array(await r.arrayBuffer());
}

async function getStore(): Promise<RunStore> {
  if (!store) {
    try {
      store = await IdbRunStore.open(dbName ? { name: dbName } : {});
    } catch (e) {
      emit({ type: 'status', state: 'idle', message: `IndexedDB unavailable (${e instanceof Error ? e.message : String(e)}); saved runs live in memory until the tab closes` });
      store = new MemoryRunStore();
    }
  }
  return store;
}

function mustTrainer(): Trainer {
  if (!trainer) throw new Error('train worker: init() first');
  return trainer;
}

function build(config: TrainConfig): void {
  if (!backend || !world) throw new Error('train worker: init() first');
  trainer?.dispose();
  trainer?.policy.dispose();
  trainer?.reference.dispose();
  const r = createTrainer({ config, backend, world, checkpoint, onEvent: (e) => emit(e) });
  trainer = r.trainer;
  models = r.models;
}

const api: TrainerWorkerApi = {
  async init(config, onEvent, assets: TrainAssets = {}) {
    emit = onEvent;
    validateConfig(config); // bad knobs are refused before anything loads
    dbName = assets.dbName;
    if (!backend) {
      backend = config.backend === 'cpu' ? await createBackend('cpu') : await createBestBackend();
      if (backend.info.fallbackReason) emit({ type: 'status', state: 'idle', message: `using ${backend.info.adapter}: ${backend.info.fallbackReason}` });
      backend.on((e) => {
        if (e.type === 'lost') emit({ type: 'error', message: `device lost (${e.reason}): ${e.message}; reload and resume from the last saved step` });
      });
    }
    emit({ type: 'progress', what: 'world', done: 0, total: 1 });
    world = assets.world ? { corpus: assets.world.corpus, questions: assets.world.questions } : await fetchWorld(assets.worldUrl ?? `${base()}world/`);
    if (!world) throw new Error(`train worker: no world: none given, and ${assets.worldUrl ?? `${base()}world/`}corpus.jsonl is not served (build one with \`npm run cli -- world build --out public/world\`)`);
    emit({ type: 'progress', what: 'world', done: 1, total: 1 });
    emit({ type: 'progress', what: 'checkpoint', done: 0, total: 1 });
    const url = assets.checkpointUrl ?? `${base()}policy/model.safetensors`;
    // The shipped checkpoint is the small policy: a tiny run starts fresh unless a checkpoint is given explicitly.
    const useShipped = !assets.freshPolicy && (config.model !== 'tiny' || assets.checkpointUrl !== undefined);
    const bytes = assets.freshPolicy ? null : (assets.checkpoint ?? (useShipped ? await fetchBytes(url) : null));
    checkpoint = bytes ? { bytes, source: assets.checkpoint ? 'given bytes' : url } : null;
    emit({ type: 'progress', what: 'checkpoint', done: 1, total: 1 });
    build(config);
    if (!checkpoint) emit({ type: 'status', state: 'idle', message: useShipped ? `no warm-start checkpoint at ${url}: training a ${models?.origin}` : `training a ${models?.origin}` });
    const t = mustTrainer();
    emit({ type: 'status', state: 'idle' });
    return { backend: backend.info, questions: t.pool.length, parameters: t.policy.parameterCount };
  },

  async start() {
    const t = mustTrainer();
    if (running) return;
    running = true;
    pauseRequested = false;
    stopRequested = false;
    emit({ type: 'status', state: 'running' });
    try {
      while (t.stepsDone < t.config.steps || t.nextPhase() !== 'rollout') {
        if (pauseRequested || stopRequested) break;
        await serial(() => t.runPhase());
      }
    } catch (e) {
      emit({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      running = false;
    }
    emit({ type: 'status', state: stopRequested ? 'stopped' : pauseRequested ? 'paused' : 'idle', ...(t.stepsDone >= t.config.steps ? { message: `finished ${t.stepsDone} steps` } : {}) });
  },

  async pause() {
    pauseRequested = true;
  },

  async resume() {
    pauseRequested = false;
    void api.start();
  },

  step(): Promise<StepRecord> {
    return serial(() => mustTrainer().step());
  },

  stepPhase(): Promise<PhaseEvent> {
    return serial(() => mustTrainer().runPhase());
  },

  async nextPhase() {
    return mustTrainer().nextPhase();
  },

  async stop() {
    stopRequested = true;
    await queue;
    trainer?.abortStep();
    emit({ type: 'status', state: 'stopped' });
  },

  save(name?: string) {
    return serial(async () => {
      const t = mustTrainer();
      if (t.nextPhase() !== 'rollout') t.abortStep(); // a step in progress is redone from its seeds after loading
      const id = `run-${Date.now().toString(36)}-${t.stepsDone}`;
      const s = await saveRunState(t, { id, name: name ?? `${t.config.preset} step ${t.stepsDone}`, binding: (models as LoadedModels).binding });
      await (await getStore()).save(s.ref, s.bytes);
      return s.ref;
    });
  },

  load(id: string) {
    return serial(async () => {
      const saved = await (await getStore()).load(id);
      const parsed = parseRunState(saved.bytes, `saved run ${id}`);
      build(parsed.ref.config);
      await restoreRunState(mustTrainer(), parsed, (models as LoadedModels).binding);
      emit({ type: 'status', state: 'idle', message: `loaded "${parsed.ref.name}" at step ${parsed.ref.step}` });
      return parsed.ref;
    });
  },

  async listRuns() {
    return (await getStore()).list();
  },

  async deleteRun(id: string) {
    await (await getStore()).delete(id);
  },

  async metrics() {
    return [...mustTrainer().metrics];
  },

  runSuite(suite, opts, onProgress) {
    return serial(async () => {
      if (!backend || !world) throw new Error('train worker: init() first');
      stopRequested = false;
      return runSuite(suite, opts, { backend, world, checkpoint, onProgress, onEvent: (e) => emit(e), shouldStop: () => stopRequested });
    });
  },
};

Comlink.expose(api);
