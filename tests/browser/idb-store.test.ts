// The IndexedDB store in real Chromium: round trip, resume after an interrupted build and a "reload" (the
// database closed and opened again), the last chunk + complete flag + pointer committed in one transaction,
// a quota error (a stubbed put throwing QuotaExceededError) that leaves the previous index usable and says what
// to delete, and the schema upgrade from version 1.
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DB_VERSION, IdbIndexStore, type SearchR2Schema, upgradeSchema } from '../../src/retrieval/idb-store.ts';
import { type ChunkSource, type IndexSpec, StorageQuotaError } from '../../src/retrieval/index-store.ts';

const DIM = 8;
const COUNT = 37; // chunks of 8: 5 chunks
const vectors = Float32Array.from({ length: COUNT * DIM }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 5)));
const ids = Array.from({ length: COUNT }, (_, i) => `city:${2000 + i}`);
const spec: IndexSpec = { worldId: 'world-test', encoderId: 'toy@1', dim: DIM, count: COUNT, chunkSize: 8 };

function source(log: number[] = [], failAt = -1): ChunkSource {
  return async (chunk, start, end) => {
    if (chunk === failAt) throw new Error(`simulated reload at chunk ${chunk}`);
    log.push(chunk);
    return { ids: ids.slice(start, end), vectors: vectors.slice(start * DIM, end * DIM) };
  };
}

let dbn = 0;
const opened: IdbIndexStore[] = [];
const names: string[] = [];
function freshName(): string {
  const name = `search-r2-test-${Date.now()}-${dbn++}`;
  names.push(name);
  return name;
}
async function open(name: string): Promise<IdbIndexStore> {
  const s = await IdbIndexStore.open({ name });
  opened.push(s);
  return s;
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of opened.splice(0)) s.close();
  for (const n of names.splice(0)) await IdbIndexStore.destroy(n);
});

const errorOf = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error');
};

/** Makes IDBObjectStore.put throw for one store, when `when` says so. */
function stubPut(storeName: string, when: () => boolean, error: () => Error): void {
  const original = IDBObjectStore.prototype.put;
  vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    if (this.name === storeName && when()) throw error();
    return original.apply(this, args);
  });
}

describe('IdbIndexStore (IndexedDB in Chromium)', () => {
  it('creates every store of DESIGN 7 and round-trips an index', async () => {
    const store = await open(freshName());
    expect(store.db.version).toBe(DB_VERSION);
    expect([...store.db.objectStoreNames].sort()).toEqual(['active_indexes', 'checkpoints', 'index_chunks', 'indexes', 'models', 'runs', 'trajectories', 'worlds']);
    const rec = await store.buildIndex(spec, source());
    expect(rec).toMatchObject({ complete: true, chunks: 5, format: 'f32' });
    const loaded = await store.loadIndex(rec.id);
    expect(loaded.ids).toEqual(ids);
    expect(loaded.vectors).toEqual(vectors);
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(rec.id);
    const q = await store.buildIndex({ ...spec, format: 'int8' }, source());
    const lq = await store.loadIndex(q.id);
    for (let i = 0; i < vectors.length; i++) expect(Math.abs(lq.vectors[i] - vectors[i])).toBeLessThan(0.03);
    await store.putWorld({ id: spec.worldId, passages: COUNT });
    expect(await store.getWorld(spec.worldId)).toEqual({ id: spec.worldId, passages: COUNT });
  });

  it('resumes after an interruption and a reload, writing only the missing chunks', async () => {
    const name = freshName();
    const first = await open(name);
    const log1: number[] = [];
    await expect(first.buildIndex(spec, source(log1, 3))).rejects.toThrow('simulated reload at chunk 3');
    expect(log1).toEqual([0, 1, 2]);
    first.close(); // the page goes away

    const second = await open(name); // ... and comes back
    const [partial] = await second.listIndexes();
    expect(partial.complete).toBe(false);
    expect(await second.activeIndex(spec.worldId, spec.encoderId)).toBeUndefined();
    const log2: number[] = [];
    const progress: number[] = [];
    const rec = await second.buildIndex(spec, source(log2), { onProgress: (p) => progress.push(p.done) });
    expect(log2).toEqual([3, 4]);
    expect(progress).toEqual([3, 4, 5]);
    expect(rec.id).toBe(partial.id);
    expect((await second.loadIndex(rec.id)).vectors).toEqual(vectors);
    expect((await second.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(rec.id);
  });

  it('commits the last chunk, the complete flag and the pointer together', async () => {
    const store = await open(freshName());
    stubPut('active_indexes', () => true, () => new Error('pointer write failed'));
    await expect(store.buildIndex(spec, source())).rejects.toThrow('pointer write failed');
    const [rec] = await store.listIndexes();
    expect(rec.complete).toBe(false);
    const keys = await store.db.getAllKeys('index_chunks');
    expect(keys.map((k) => k[1])).toEqual([0, 1, 2, 3]); // chunk 4 went with the failed transaction
    vi.restoreAllMocks();
    const log: number[] = [];
    const done = await store.buildIndex(spec, source(log));
    expect(log).toEqual([4]);
    expect(done.complete).toBe(true);
  });

  it('reports a quota error with what to delete and keeps the previous index usable', async () => {
    const name = freshName();
    const store = await open(name);
    const old = await store.buildIndex(spec, source());
    let chunkPuts = 0;
    stubPut('index_chunks', () => ++chunkPuts >= 3, () => new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
    const e = await errorOf(store.buildIndex({ ...spec, chunkSize: 4 }, source()));
    expect(e).toBeInstanceOf(StorageQuotaError);
    expect(e.name).toBe('StorageQuotaError');
    expect(e.message).toContain(`Storage quota exceeded in IndexedDB database "${name}" while writing chunk 3 of 10`);
    expect(e.message).toContain(`deleting indexes you no longer need: ${old.id} (world world-test, encoder toy@1, in use`);
    expect(e.message).toContain(`The index in use, ${old.id}, is unchanged and stays usable.`);
    expect(e.message).toContain('An int8 index takes about a quarter of the space.');
    expect((e.cause as DOMException).name).toBe('QuotaExceededError');
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(old.id);
    expect((await store.loadIndex(old.id)).vectors).toEqual(vectors);

    vi.restoreAllMocks(); // space was freed
    const log: number[] = [];
    const next = await store.buildIndex({ ...spec, chunkSize: 4 }, source(log));
    expect(log).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(next.id);
    expect(await store.pruneIndexes(spec.worldId, spec.encoderId)).toEqual([old.id]);
    expect(await store.db.count('index_chunks')).toBe(10);
  });

  it('upgrades a version 1 database: worlds kept, unusable v1 index records dropped', async () => {
    const name = freshName();
    const v1 = await openDB<SearchR2Schema>(name, 1, { upgrade: (db, o, _n, tx) => upgradeSchema(db, o, 1, tx) });
    expect([...v1.objectStoreNames].sort()).toEqual(['checkpoints', 'indexes', 'runs', 'trajectories', 'worlds']);
    await v1.put('worlds', { id: 'world-old', passages: 12 });
    await v1.put('runs', { id: 'run-1', preset: 'tiny' });
    // A v1-era record without chunks (typed loosely on purpose: it predates IndexRecord).
    await (v1 as unknown as { put(s: string, v: unknown): Promise<unknown> }).put('indexes', { id: 'old-index', vectors: [1, 2, 3] });
    v1.close();

    const store = await open(name);
    expect(store.db.version).toBe(DB_VERSION);
    expect(await store.getWorld('world-old')).toEqual({ id: 'world-old', passages: 12 });
    expect(await store.db.get('runs', 'run-1')).toEqual({ id: 'run-1', preset: 'tiny' });
    expect(await store.listIndexes()).toEqual([]);
    const rec = await store.buildIndex(spec, source());
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(rec.id);
    expect(await store.db.getAllFromIndex('indexes', 'by_world_encoder', [spec.worldId, spec.encoderId])).toHaveLength(1);
  });
});
