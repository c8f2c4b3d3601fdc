// The encoder model cache in real IndexedDB (the `models` store of schema v3): files survive a reopen (a reload),
// a v2 database upgrades keeping its indexes, and fetchEncoderFiles serves a cached URL without fetching.
import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import type { EncoderFiles } from '../../src/model/e5.ts';
import { fetchEncoderFiles } from '../../src/model/encoder-files.ts';
import { IdbModelCache } from '../../src/model/model-cache.ts';
import { DB_VERSION, IdbIndexStore, type SearchR2Schema, upgradeSchema } from '../../src/retrieval/idb-store.ts';

const names: string[] = [];
let n = 0;
function freshName(): string {
  const name = `search-r2-model-cache-${Date.now()}-${n++}`;
  names.push(name);
  return name;
}
afterEach(async () => {
  for (const name of names.splice(0)) await IdbIndexStore.destroy(name);
});

const bytes = (k: number, len: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (i * k) & 255);
const files: EncoderFiles = {
  model: { name: 'e5/model.safetensors', bytes: bytes(3, 5000) },
  config: { name: 'e5/config.json', bytes: bytes(5, 40) },
  tokenizer: { name: 'e5/vocab.txt', bytes: bytes(7, 300) },
};

describe('IdbModelCache (IndexedDB in Chromium)', () => {
  it('stores, lists, survives a reopen, deletes', async () => {
    const name = freshName();
    const a = await IdbModelCache.open(name);
    expect(await a.get('url:x')).toBeUndefined();
    await a.put('url:x', files);
    a.close();
    const b = await IdbModelCache.open(name);
    const got = await b.get('url:x');
    expect(got?.model.bytes).toEqual(files.model.bytes);
    expect(got?.tokenizer.name).toBe('e5/vocab.txt');
    expect(await b.list()).toEqual([{ key: 'url:x', bytes: 5340, storedAt: expect.any(Number) }]);
    await b.delete('url:x');
    expect(await b.list()).toEqual([]);
    b.close();
  });

  it('upgrades a version 2 database (indexes kept) to the version with the models store', async () => {
    const name = freshName();
    const v2 = await openDB<SearchR2Schema>(name, 2, { upgrade: (db, o, _n, tx) => upgradeSchema(db, o, 2, tx) });
    expect([...v2.objectStoreNames]).not.toContain('models');
    await v2.put('worlds', { id: 'w', passages: 3 });
    v2.close();
    const cache = await IdbModelCache.open(name);
    await cache.put('file:a', files);
    cache.close();
    const store = await IdbIndexStore.open({ name });
    expect(store.db.version).toBe(DB_VERSION);
    expect(await store.getWorld('w')).toEqual({ id: 'w', passages: 3 });
    expect(await store.db.count('models')).toBe(1);
    store.close();
  });

  it('fetchEncoderFiles serves a cached URL without fetching again', async () => {
    const cache = await IdbModelCache.open(freshName());
    let calls = 0;
    const served: Record<string, Uint8Array> = {
      'https://example.org/m/model.safetensors': files.model.bytes,
      'https://example.org/m/config.json': files.config.bytes,
      'https://example.org/m/tokenizer.json': files.tokenizer.bytes,
    };
    const fakeFetch = (async (url: string) => {
      calls++;
      const b = served[url];
      return b ? new Response(b.slice()) : new Response('', { status: 404 });
    }) as unknown as typeof fetch; // a test double of fetch
    await fetchEncoderFiles('https://example.org/m/', { fetch: fakeFetch, cache });
    const first = calls;
    const again = await fetchEncoderFiles('https://example.org/m/', { fetch: fakeFetch, cache });
    expect(calls).toBe(first);
    expect(again.config.bytes).toEqual(files.config.bytes);
    cache.close();
  });
});
