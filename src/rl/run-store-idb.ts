// Run states in the browser (DESIGN 7): the `runs` store holds {id, ref, metrics} and the `checkpoints` store the
// state bytes as {id: "<runId>:state", runId, bytes}, both written in ONE transaction (commit() aborts it as a whole
// on any failure), in the versioned search-r2 database of src/retrieval/idb-store.ts (schema v1 created both
// stores; no upgrade needed). A full disk is reported as QuotaError naming the run and the runs one may delete.
import { commit, isQuotaExceeded, openSearchR2Db, type IdbOpenOptions } from '../retrieval/idb-store.ts';
import type { SavedRunRef } from '../worker/train-protocol.ts';
import { RunStateError, type RunStore } from './run-state.ts';

type Db = Awaited<ReturnType<typeof openSearchR2Db>>;

export class RunQuotaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuotaError';
  }
}

const stateKey = (id: string): string => `${id}:state`;

function isRef(x: unknown): x is SavedRunRef {
  return typeof x === 'object' && x !== null && typeof (x as SavedRunRef).id === 'string' && typeof (x as SavedRunRef).step === 'number';
}

export class IdbRunStore implements RunStore {
  private constructor(private readonly db: Db) {}

  static async open(opts: IdbOpenOptions = {}): Promise<IdbRunStore> {
    let store: IdbRunStore | null = null;
    const db = await openSearchR2Db(opts, () => store?.close());
    store = new IdbRunStore(db);
    return store;
  }

  async save(ref: SavedRunRef, bytes: Uint8Array): Promise<void> {
    const tx = this.db.transaction(['runs', 'checkpoints'], 'readwrite');
    try {
      await commit(tx, (add) => {
        add(tx.objectStore('runs').put({ id: ref.id, ref, kind: 'train-run' }));
        add(tx.objectStore('checkpoints').put({ id: stateKey(ref.id), runId: ref.id, bytes }));
      });
    } catch (e) {
      if (!isQuotaExceeded(e)) throw e;
      const others = (await this.list()).filter((r) => r.id !== ref.id);
      const mb = (bytes.byteLength / 1e6).toFixed(1);
      throw new RunQuotaError(
        `IndexedDB quota exceeded saving run "${ref.name}" (${mb} MB); nothing was written. Delete saved runs to make room` +
          (others.length ? `: ${others.map((r) => `"${r.name}" (step ${r.step})`).join(', ')}` : ' (no other runs are saved; clear the site data of other models or indexes)'),
        { cause: e },
      );
    }
  }

  async load(id: string): Promise<{ ref: SavedRunRef; bytes: Uint8Array }> {
    const tx = this.db.transaction(['runs', 'checkpoints'], 'readonly');
    const [row, cp] = await Promise.all([tx.objectStore('runs').get(id), tx.objectStore('checkpoints').get(stateKey(id)), tx.done]);
    if (!row || !isRef(row.ref)) throw new RunStateError('id', `no saved run "${id}" in IndexedDB`);
    const bytes = cp?.bytes;
    if (!(bytes instanceof Uint8Array)) throw new RunStateError('checkpoint', `saved run "${id}" has no state in the checkpoints store`);
    return { ref: row.ref, bytes };
  }

  async list(): Promise<SavedRunRef[]> {
    const rows = await this.db.getAll('runs');
    return rows.filter((r) => r.kind === 'train-run' && isRef(r.ref)).map((r) => r.ref as SavedRunRef).sort((a, b) => a.savedAt.localeCompare(b.savedAt));
  }

  async delete(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'checkpoints'], 'readwrite');
    await commit(tx, (add) => {
      add(tx.objectStore('runs').delete(id));
      add(tx.objectStore('checkpoints').delete(stateKey(id)));
    });
  }

  close(): void {
    this.db.close();
  }
}
