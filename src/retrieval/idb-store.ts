// The browser's storage (DESIGN 7): one IndexedDB database through `idb`, versioned, with upgrade code for every
// version step. Dense indexes are stored as chunks (see index-store.ts for the build rules); every write is one
// transaction, and the last chunk, the record turned complete and the active-index pointer share one.
//
// Schema (DB_VERSION = 3):
//   v1  worlds        {id, ...}                          key id          (world metadata, e.g. the manifest)
//       indexes       IndexRecord                        key id
//       runs          {id, ...}                          key id          (config, metrics)
//       trajectories  {id, runId, ...}                   key id, index runId
//       checkpoints   {id, runId, ...}                   key id, index runId
//   v2  index_chunks  StoredChunk                        key [indexId, chunk]
//       active_indexes {worldId, encoderId, indexId, switchedAt}  key [worldId, encoderId]
//       indexes gains the index by_world_encoder [worldId, encoderId]; v1 index records (no chunks) are dropped:
//       an index is a cache of a world and an encoder, rebuilt on demand.
//   v3  models        CachedModelRow {key, files, bytes, storedAt}  key key  (encoder files fetched from a URL or
//       picked by the user, so a reload does not fetch them again; see src/model/model-cache.ts)
import { type DBSchema, deleteDB, type IDBPDatabase, type IDBPTransaction, openDB, type StoreNames } from 'idb';
import { ChunkedIndexStore, type IndexRecord, type StoredChunk, type WorldMeta } from './index-store.ts';

export const DB_NAME = 'search-r2';
export const DB_VERSION = 3;

export interface ActiveIndex {
  worldId: string;
  encoderId: string;
  indexId: string;
  switchedAt: number;
}

export interface RunRow {
  id: string;
  [field: string]: unknown;
}

export interface RunItemRow {
  id: string;
  runId: string;
  [field: string]: unknown;
}

/** One cached model: its files' names and bytes (structured-cloned as they are). */
export interface CachedModelRow {
  key: string;
  files: Record<string, { name: string; bytes: Uint8Array }>;
  /** Total bytes of the files. */
  bytes: number;
  storedAt: number;
}

export interface SearchR2Schema extends DBSchema {
  worlds: { key: string; value: WorldMeta };
  indexes: { key: string; value: IndexRecord; indexes: { by_world_encoder: [string, string] } };
  runs: { key: string; value: RunRow };
  trajectories: { key: string; value: RunItemRow; indexes: { runId: string } };
  checkpoints: { key: string; value: RunItemRow; indexes: { runId: string } };
  index_chunks: { key: [string, number]; value: StoredChunk };
  active_indexes: { key: [string, string]; value: ActiveIndex };
  models: { key: string; value: CachedModelRow };
}

type Db = IDBPDatabase<SearchR2Schema>;
type UpgradeTx = IDBPTransaction<SearchR2Schema, StoreNames<SearchR2Schema>[], 'versionchange'>;

/**
 * Brings a database from `oldVersion` to `newVersion`, one step at a time. Exported so tests can build an older
 * version (upgradeSchema(db, 0, 1, tx)) and watch the upgrade.
 */
export function upgradeSchema(db: Db, oldVersion: number, newVersion: number, tx: UpgradeTx): void {
  if (oldVersion < 1 && newVersion >= 1) {
    db.createObjectStore('worlds', { keyPath: 'id' });
    db.createObjectStore('indexes', { keyPath: 'id' });
    db.createObjectStore('runs', { keyPath: 'id' });
    db.createObjectStore('trajectories', { keyPath: 'id' }).createIndex('runId', 'runId');
    db.createObjectStore('checkpoints', { keyPath: 'id' }).createIndex('runId', 'runId');
  }
  if (oldVersion < 2 && newVersion >= 2) {
    db.createObjectStore('index_chunks', { keyPath: ['indexId', 'chunk'] });
    db.createObjectStore('active_indexes', { keyPath: ['worldId', 'encoderId'] });
    const indexes = tx.objectStore('indexes');
    indexes.createIndex('by_world_encoder', ['worldId', 'encoderId']);
    // v1 had no chunked vectors: its index records cannot be loaded, so they go (fire-and-forget inside the
    // upgrade transaction, which completes only when these requests have).
    void (async () => {
      for (let cur = await indexes.openCursor(); cur; cur = await cur.continue())
        if (typeof (cur.value as Partial<IndexRecord>).chunkSize !== 'number') await cur.delete();
    })();
  }
  if (oldVersion < 3 && newVersion >= 3) db.createObjectStore('models', { keyPath: 'key' });
}

export interface IdbOpenOptions {
  name?: string;
  /** Schema version to open (tests open older ones); default DB_VERSION. */
  version?: number;
}

function chunkRange(id: string): IDBKeyRange {
  return IDBKeyRange.bound([id, 0], [id, Infinity]);
}

export function isQuotaExceeded(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && depth < 4; depth++) {
    if (typeof x === 'object' && (x as { name?: unknown }).name === 'QuotaExceededError') return true;
    x = typeof x === 'object' ? (x as { cause?: unknown }).cause : undefined;
  }
  return false;
}

/**
 * Runs the writes of one transaction: `writes` issues the requests through `add`. On any failure (a request that
 * throws, fails, or a transaction that aborts) the transaction is aborted, every request settled, and the first
 * error rethrown, so nothing of it is stored.
 */
export async function commit<T extends StoreNames<SearchR2Schema>[]>(
  tx: IDBPTransaction<SearchR2Schema, T, 'readwrite'>,
  writes: (add: (request: Promise<unknown>) => void) => void,
): Promise<void> {
  const requests: Promise<unknown>[] = [];
  try {
    writes((r) => requests.push(r));
    await Promise.all([...requests, tx.done]);
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // already finished or aborted
    }
    await Promise.allSettled([...requests, tx.done]);
    throw isQuotaExceeded(e) || !tx.error ? e : tx.error;
  }
}

/**
 * Opens (creating or upgrading) the database; `onBlocking` runs when another tab wants a newer schema (close the
 * connection to let it).
 */
export function openSearchR2Db(opts: IdbOpenOptions = {}, onBlocking?: () => void): Promise<Db> {
  const version = opts.version ?? DB_VERSION;
  return openDB<SearchR2Schema>(opts.name ?? DB_NAME, version, {
    upgrade: (d, oldV, newV, tx) => upgradeSchema(d, oldV, newV ?? version, tx),
    blocking: () => onBlocking?.(),
  });
}

export class IdbIndexStore extends ChunkedIndexStore {
  private constructor(
    readonly db: Db,
    readonly name: string,
  ) {
    super();
  }

  static async open(opts: IdbOpenOptions = {}): Promise<IdbIndexStore> {
    const name = opts.name ?? DB_NAME;
    let store: IdbIndexStore | null = null;
    const db = await openSearchR2Db(opts, () => store?.close()); // another tab wants a newer schema: let it
    store = new IdbIndexStore(db, name);
    return store;
  }

  /** Deletes the whole database (tests, "reset storage"). */
  static async destroy(name = DB_NAME): Promise<void> {
    await deleteDB(name);
  }

  protected where(): string {
    return `IndexedDB database "${this.name}"`;
  }

  protected isQuotaError(e: unknown): boolean {
    return isQuotaExceeded(e);
  }

  protected readRecords(): Promise<IndexRecord[]> {
    return this.db.getAll('indexes');
  }

  protected readRecord(id: string): Promise<IndexRecord | undefined> {
    return this.db.get('indexes', id);
  }

  protected async writeRecord(rec: IndexRecord): Promise<void> {
    const tx = this.db.transaction('indexes', 'readwrite');
    await commit(tx, (add) => add(tx.store.put(rec)));
  }

  protected async chunkNumbers(id: string): Promise<Set<number>> {
    const keys = await this.db.getAllKeys('index_chunks', chunkRange(id));
    return new Set(keys.map((k) => k[1]));
  }

  protected readChunk(id: string, chunk: number): Promise<StoredChunk | undefined> {
    return this.db.get('index_chunks', [id, chunk]);
  }

  protected async writeChunk(c: StoredChunk, finished: IndexRecord | null): Promise<void> {
    const tx = this.db.transaction(['index_chunks', 'indexes', 'active_indexes'], 'readwrite');
    await commit(tx, (add) => {
      add(tx.objectStore('index_chunks').put(c));
      if (finished) {
        add(tx.objectStore('indexes').put(finished));
        add(tx.objectStore('active_indexes').put({ worldId: finished.worldId, encoderId: finished.encoderId, indexId: finished.id, switchedAt: Date.now() }));
      }
    });
  }

  protected async finish(rec: IndexRecord): Promise<void> {
    const tx = this.db.transaction(['indexes', 'active_indexes'], 'readwrite');
    await commit(tx, (add) => {
      add(tx.objectStore('indexes').put(rec));
      add(tx.objectStore('active_indexes').put({ worldId: rec.worldId, encoderId: rec.encoderId, indexId: rec.id, switchedAt: Date.now() }));
    });
  }

  protected async readPointer(worldId: string, encoderId: string): Promise<string | undefined> {
    return (await this.db.get('active_indexes', [worldId, encoderId]))?.indexId;
  }

  protected async removeIndex(id: string): Promise<void> {
    const tx = this.db.transaction(['index_chunks', 'indexes', 'active_indexes'], 'readwrite');
    const rec = await tx.objectStore('indexes').get(id);
    const pointer = rec ? await tx.objectStore('active_indexes').get([rec.worldId, rec.encoderId]) : undefined;
    await commit(tx, (add) => {
      add(tx.objectStore('index_chunks').delete(chunkRange(id)));
      add(tx.objectStore('indexes').delete(id));
      if (rec && pointer?.indexId === id) add(tx.objectStore('active_indexes').delete([rec.worldId, rec.encoderId]));
    });
  }

  async putWorld(meta: WorldMeta): Promise<void> {
    const tx = this.db.transaction('worlds', 'readwrite');
    await commit(tx, (add) => add(tx.store.put(meta)));
  }

  getWorld(id: string): Promise<WorldMeta | undefined> {
    return this.db.get('worlds', id);
  }

  listWorlds(): Promise<WorldMeta[]> {
    return this.db.getAll('worlds');
  }

  close(): void {
    this.db.close();
  }
}
