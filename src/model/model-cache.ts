// A cache of encoder files (config, weights, tokenizer) so that a model fetched from a URL or picked by the user
// is not fetched again after a reload. In the browser: the `models` store of the app's IndexedDB database
// (src/retrieval/idb-store.ts, schema v3). In Node and in tests: memory.
import { commit, DB_NAME, isQuotaExceeded, openSearchR2Db, type CachedModelRow } from '../retrieval/idb-store.ts';
import type { EncoderFiles } from './e5.ts';

export interface ModelCache {
  get(key: string): Promise<EncoderFiles | undefined>;
  put(key: string, files: EncoderFiles): Promise<void>;
  delete(key: string): Promise<void>;
  /** Cached keys with their sizes in bytes. */
  list(): Promise<{ key: string; bytes: number; storedAt: number }[]>;
}

const total = (f: EncoderFiles): number => f.model.bytes.length + f.config.bytes.length + f.tokenizer.bytes.length;

function toRow(key: string, files: EncoderFiles): CachedModelRow {
  return { key, files: { model: files.model, config: files.config, tokenizer: files.tokenizer }, bytes: total(files), storedAt: Date.now() };
}

function fromRow(row: CachedModelRow): EncoderFiles | undefined {
  const { model, config, tokenizer } = row.files;
  if (!model || !config || !tokenizer) return undefined;
  return { model, config, tokenizer };
}

export class MemoryModelCache implements ModelCache {
  private readonly rows = new Map<string, CachedModelRow>();
  async get(key: string): Promise<EncoderFiles | undefined> {
    const r = this.rows.get(key);
    return r ? fromRow(r) : undefined;
  }
  async put(key: string, files: EncoderFiles): Promise<void> {
    this.rows.set(key, toRow(key, files));
  }
  async delete(key: string): Promise<void> {
    this.rows.delete(key);
  }
  async list(): Promise<{ key: string; bytes: number; storedAt: number }[]> {
    return [...this.rows.values()].map(({ key, bytes, storedAt }) => ({ key, bytes, storedAt }));
  }
}

/** Thrown when the browser's storage quota has no room for a model; says what could be deleted. */
export class ModelCacheQuotaError extends Error {
  constructor(message: string, override readonly cause: unknown) {
    super(message);
    this.name = 'ModelCacheQuotaError';
  }
}

export class IdbModelCache implements ModelCache {
  private constructor(private readonly db: Awaited<ReturnType<typeof openSearchR2Db>>, readonly name: string) {}

  static async open(name = DB_NAME): Promise<IdbModelCache> {
    let cache: IdbModelCache | null = null;
    const db = await openSearchR2Db({ name }, () => cache?.close());
    cache = new IdbModelCache(db, name);
    return cache;
  }

  async get(key: string): Promise<EncoderFiles | undefined> {
    const row = await this.db.get('models', key);
    return row ? fromRow(row) : undefined;
  }

  async put(key: string, files: EncoderFiles): Promise<void> {
    const tx = this.db.transaction('models', 'readwrite');
    try {
      await commit(tx, (add) => add(tx.store.put(toRow(key, files))));
    } catch (e) {
      if (!isQuotaExceeded(e)) throw e;
      const others = (await this.list()).filter((r) => r.key !== key);
      const what = others.length > 0
        ? `delete cached models (${others.map((r) => `${r.key}: ${(r.bytes / 1e6).toFixed(1)} MB`).join(', ')}) or stored indexes`
        : 'delete stored indexes or runs';
      throw new ModelCacheQuotaError(`IndexedDB database "${this.name}": no room to cache ${key} (${(total(files) / 1e6).toFixed(1)} MB); ${what}`, e);
    }
  }

  async delete(key: string): Promise<void> {
    const tx = this.db.transaction('models', 'readwrite');
    await commit(tx, (add) => add(tx.store.delete(key)));
  }

  async list(): Promise<{ key: string; bytes: number; storedAt: number }[]> {
    return (await this.db.getAll('models')).map(({ key, bytes, storedAt }) => ({ key, bytes, storedAt }));
  }

  close(): void {
    this.db.close();
  }
}
