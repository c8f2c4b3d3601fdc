// The file store (Node CLI): round trip in f32 and int8, resume after an interrupted build, atomic chunk writes,
// the active-index pointer switching only when a new index completes, and out-of-space errors that say what to
// delete while the previous index stays usable.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/rng.ts';
import { decodeChunkFile, encodeChunkFile, FileIndexStore } from '../../src/retrieval/file-store.ts';
import { type ChunkSource, corpusWorldId, encodeChunk, type IndexSpec, StorageQuotaError } from '../../src/retrieval/index-store.ts';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'file-store-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = (): string => join(root, `s${n++}`);

const DIM = 8;
const COUNT = 37; // 5 chunks of 8 (the last has 5)
const vectors = new Rng(4).normalArray(COUNT * DIM);
const ids = Array.from({ length: COUNT }, (_, i) => `city:${1000 + i}`);
const spec: IndexSpec = { worldId: 'world-test', encoderId: 'toy@1', dim: DIM, count: COUNT, chunkSize: 8 };

function source(log: number[] = [], failAt = -1): ChunkSource {
  return async (chunk, start, end) => {
    if (chunk === failAt) throw new Error(`simulated crash at chunk ${chunk}`);
    log.push(chunk);
    return { ids: ids.slice(start, end), vectors: vectors.slice(start * DIM, end * DIM) };
  };
}

const errorOf = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error');
};

describe('FileIndexStore', () => {
  it('round-trips an f32 index exactly and an int8 index within its quantization step', async () => {
    const store = await FileIndexStore.open(freshDir());
    const progress: number[] = [];
    const rec = await store.buildIndex(spec, source(), { onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rec).toMatchObject({ complete: true, chunks: 5, count: COUNT, dim: DIM, format: 'f32', bytes: COUNT * DIM * 4 });
    const loaded = await store.loadIndex(rec.id);
    expect(loaded.ids).toEqual(ids);
    expect(loaded.vectors).toEqual(vectors);
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(rec.id);

    const q = await store.buildIndex({ ...spec, format: 'int8' }, source());
    const lq = await store.loadIndex(q.id);
    for (let r = 0; r < COUNT; r++) {
      const row = vectors.subarray(r * DIM, (r + 1) * DIM);
      const step = Math.max(...row.map(Math.abs)) / 127;
      for (let j = 0; j < DIM; j++) expect(Math.abs(lq.vectors[r * DIM + j] - row[j])).toBeLessThanOrEqual(step / 2 + 1e-7);
    }
    expect(q.bytes).toBe(COUNT * (DIM + 4));
  });

  it('resumes an interrupted build after a "restart", skipping the chunks already written', async () => {
    const dir = freshDir();
    const first = await FileIndexStore.open(dir);
    const log1: number[] = [];
    expect((await errorOf(first.buildIndex(spec, source(log1, 3)))).message).toBe('simulated crash at chunk 3');
    expect(log1).toEqual([0, 1, 2]);
    const [partial] = await first.listIndexes();
    expect(partial.complete).toBe(false);
    expect(await first.activeIndex(spec.worldId, spec.encoderId)).toBeUndefined();
    await expect(first.loadIndex(partial.id)).rejects.toThrow(/incomplete/);

    const second = await FileIndexStore.open(dir); // a new process
    const log2: number[] = [];
    const seen: { done: number; resumed: number }[] = [];
    const rec = await second.buildIndex(spec, source(log2), { onProgress: (p) => seen.push({ done: p.done, resumed: p.resumed }) });
    expect(log2).toEqual([3, 4]);
    expect(seen[0]).toEqual({ done: 3, resumed: 3 });
    expect(rec.id).toBe(partial.id);
    expect(rec.complete).toBe(true);
    expect((await second.loadIndex(rec.id)).vectors).toEqual(vectors);
    expect(await second.listIndexes()).toHaveLength(1);
  });

  it('writes chunks atomically: a failed write leaves no chunk and no temporary file', async () => {
    const dir = freshDir();
    let fail = true;
    const store = await FileIndexStore.open(dir, {
      beforeRename: (path) => {
        if (fail && path.endsWith('chunk-000002.bin')) throw new Error('power cut');
      },
    });
    await expect(store.buildIndex(spec, source())).rejects.toThrow('power cut');
    const [rec] = await store.listIndexes();
    const files = readdirSync(join(dir, 'indexes', rec.id)).sort();
    expect(files).toEqual(['chunk-000000.bin', 'chunk-000001.bin', 'record.json']);
    fail = false;
    const log: number[] = [];
    await store.buildIndex(spec, source(log));
    expect(log).toEqual([2, 3, 4]);
  });

  it('finishes a build whose chunks were all written but whose record was not', async () => {
    const dir = freshDir();
    let fail = true;
    const store = await FileIndexStore.open(dir, {
      beforeRename: (path) => {
        if (fail && path.endsWith('record.json') && !path.includes('chunk')) {
          // let the first (incomplete) record through, fail the one that marks the index complete
          if (readdirSync(join(path, '..')).some((f) => f === 'chunk-000004.bin')) throw new Error('crash before the record');
        }
      },
    });
    await expect(store.buildIndex(spec, source())).rejects.toThrow('crash before the record');
    expect(await store.activeIndex(spec.worldId, spec.encoderId)).toBeUndefined();
    fail = false;
    const log: number[] = [];
    const rec = await store.buildIndex(spec, source(log));
    expect(log).toEqual([]);
    expect(rec.complete).toBe(true);
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(rec.id);
  });

  it('keeps the previous index active until a new one completes, and reports a full disk with what to delete', async () => {
    const dir = freshDir();
    let full = false;
    const store = await FileIndexStore.open(dir, {
      beforeRename: (path) => {
        if (full && path.endsWith('chunk-000001.bin')) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
    const old = await store.buildIndex(spec, source());
    full = true;
    const e = await errorOf(store.buildIndex({ ...spec, chunkSize: 4 }, source()));
    expect(e).toBeInstanceOf(StorageQuotaError);
    expect(e.message).toContain('Storage quota exceeded');
    expect(e.message).toContain(`deleting indexes you no longer need: ${old.id}`);
    expect(e.message).toContain(`The index in use, ${old.id}, is unchanged`);
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(old.id);
    expect((await store.loadIndex(old.id)).vectors).toEqual(vectors);

    full = false;
    const next = await store.buildIndex({ ...spec, chunkSize: 4 }, source());
    expect(next.id).not.toBe(old.id);
    expect((await store.activeIndex(spec.worldId, spec.encoderId))?.id).toBe(next.id);
    expect((await store.getIndex(old.id))?.complete).toBe(true); // never overwritten in place
    expect(await store.pruneIndexes(spec.worldId, spec.encoderId)).toEqual([old.id]);
    expect((await store.listIndexes()).map((r) => r.id)).toEqual([next.id]);
    await store.deleteIndex(next.id);
    expect(await store.activeIndex(spec.worldId, spec.encoderId)).toBeUndefined();
  });

  it('a new build never resumes into a complete index', async () => {
    const store = await FileIndexStore.open(freshDir());
    const a = await store.buildIndex(spec, source());
    const b = await store.buildIndex(spec, source());
    expect(b.id).not.toBe(a.id);
    expect((await store.listIndexes()).filter((r) => r.complete)).toHaveLength(2);
  });

  it('stores world metadata, and refuses bad specs and short chunks', async () => {
    const store = await FileIndexStore.open(freshDir());
    await store.putWorld({ id: 'world-x', passages: 3 });
    expect(await store.getWorld('world-x')).toEqual({ id: 'world-x', passages: 3 });
    expect((await store.listWorlds()).map((w) => w.id)).toEqual(['world-x']);
    await expect(store.buildIndex({ ...spec, dim: 0 }, source())).rejects.toThrow('index: dim must be a positive integer, got 0');
    const short: ChunkSource = async () => ({ ids: ['a'], vectors: new Float32Array(DIM) });
    await expect(store.buildIndex(spec, short)).rejects.toThrow('index: chunk 0 source gave 1 ids, expected 8');
  });

  it('encodes chunk files losslessly and names ids that are not file-safe', async () => {
    const c = encodeChunk('idx/../x', 3, { ids: ['a', 'b'], vectors: Float32Array.from([1, 2, 3, 4]) }, 2, 'int8');
    const back = decodeChunkFile(encodeChunkFile(c), 'x');
    expect(back.ids).toEqual(['a', 'b']);
    expect(new Int8Array(back.data)).toEqual(new Int8Array(c.data));
    expect(new Float32Array(back.scales!)).toEqual(new Float32Array(c.scales!));
    const store = await FileIndexStore.open(freshDir());
    const rec = await store.buildIndex({ ...spec, worldId: '../../etc', encoderId: 'a/b:c' }, source());
    expect((await store.activeIndex('../../etc', 'a/b:c'))?.id).toBe(rec.id);
  });

  it('gives a corpus a content id', () => {
    const a = corpusWorldId([{ id: 'p1', contents: 'x' }]);
    expect(a).toMatch(/^world-[0-9a-f]{16}$/);
    expect(corpusWorldId([{ id: 'p1', contents: 'y' }])).not.toBe(a);
    expect(corpusWorldId([{ id: 'p1x', contents: '' }])).not.toBe(corpusWorldId([{ id: 'p1', contents: 'x' }]));
    expect(corpusWorldId([{ id: 'p1', contents: 'x' }])).toBe(a);
  });
});
