// The UI's own IndexedDB store (idb): ablation suite results run in this tab and results files imported for review.
// Saved training runs (weights, optimizer) belong to the worker (TrainerWorkerApi.listRuns/deleteRun).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { StepMetrics } from '../rl/events.ts';

export interface StoredResult {
  id: string;
  kind: 'suite' | 'imported';
  name: string;
  savedAt: string;
  /** results.json's content as the worker (or the imported file) gave it. */
  results: unknown;
  config?: unknown;
  metrics?: StepMetrics[];
  app: string;
}

interface Schema extends DBSchema {
  results: { key: string; value: StoredResult; indexes: { savedAt: string } };
}

const DB = 'search-r2-playground-ui';
let dbp: Promise<IDBPDatabase<Schema>> | null = null;

function db(): Promise<IDBPDatabase<Schema>> {
  dbp ??= openDB<Schema>(DB, 1, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) d.createObjectStore('results', { keyPath: 'id' }).createIndex('savedAt', 'savedAt');
    },
  });
  return dbp;
}

/** Quota errors are reported with what to delete. */
function explain(e: unknown): Error {
  const name = e instanceof DOMException ? e.name : '';
  if (name === 'QuotaExceededError') return new Error('The browser storage is full: delete old runs in the list below (or saved checkpoints) and try again.');
  return e instanceof Error ? e : new Error(String(e));
}

export async function listResults(): Promise<StoredResult[]> {
  const all = await (await db()).getAllFromIndex('results', 'savedAt');
  return all.reverse();
}

export async function putResult(r: StoredResult): Promise<void> {
  try {
    const d = await db();
    const tx = d.transaction('results', 'readwrite');
    await Promise.all([tx.store.put(r), tx.done]);
  } catch (e) {
    throw explain(e);
  }
}

export async function getResult(id: string): Promise<StoredResult | undefined> {
  return (await db()).get('results', id);
}

export async function deleteResult(id: string): Promise<void> {
  const d = await db();
  const tx = d.transaction('results', 'readwrite');
  await Promise.all([tx.store.delete(id), tx.done]);
}
