// Stored dense indexes (DESIGN 7), shared by the IndexedDB store (browser) and the file store (Node CLI).
//
// An index is a record plus chunks of `chunkSize` vectors (default 1024) each, as f32 or int8 with one f32 scale
// per vector (q = round(v / s), s = max|v| / 127). Chunks carry their passage ids, so a chunk is self-contained.
//
// Build rules:
// - A build is RESUMABLE: it first looks for an incomplete index with the same (worldId, encoderId, dim, count,
//   chunkSize, format) and writes only the chunks that are missing (each chunk is written atomically, so one
//   that exists is whole). The encoder must be deterministic for this to be sound (see DenseEncoder).
// - A complete index is never changed in place: a new build writes under a new id, and the last chunk, the record
//   turned `complete` and the (worldId, encoderId) -> index pointer are committed together (one IndexedDB
//   transaction; on files: chunk, then record, then pointer, each an atomic rename, and a build that finds every
//   chunk present but the record incomplete just finishes it). Until then the previous index stays the active one.
// - Running out of space raises StorageQuotaError naming what can be deleted; the partial index is kept so the
//   build resumes after space is freed, and the active index is untouched.

export type VectorFormat = 'f32' | 'int8';

export const DEFAULT_CHUNK_SIZE = 1024;

export interface IndexSpec {
  worldId: string;
  /** DenseEncoder.id: the weights the vectors come from. */
  encoderId: string;
  dim: number;
  /** Number of vectors (passages). */
  count: number;
  chunkSize?: number;
  format?: VectorFormat;
}

export interface IndexRecord {
  id: string;
  worldId: string;
  encoderId: string;
  dim: number;
  count: number;
  chunkSize: number;
  /** Number of chunks: ceil(count / chunkSize). */
  chunks: number;
  format: VectorFormat;
  complete: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
  completedAt: number | null;
  /** Bytes of vector data (and scales) when complete. */
  bytes: number;
}

/** One chunk as produced by the encoder: ids and their vectors [ids.length, dim]. */
export interface VectorChunk {
  ids: string[];
  vectors: Float32Array;
}

/** One chunk as stored. */
export interface StoredChunk {
  indexId: string;
  chunk: number;
  ids: string[];
  format: VectorFormat;
  /** f32 [n * dim] or int8 [n * dim]. */
  data: ArrayBuffer;
  /** int8 only: f32 [n]. */
  scales: ArrayBuffer | null;
}

export interface BuildProgress {
  /** Chunks stored so far (skipped ones included). */
  done: number;
  total: number;
  /** Chunks found already written when the build started. */
  resumed: number;
  indexId: string;
}

export interface BuildOptions {
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
}

/** Produces the vectors of chunk `chunk`, passages [start, end). */
export type ChunkSource = (chunk: number, start: number, end: number) => Promise<VectorChunk>;

export interface LoadedIndex {
  record: IndexRecord;
  ids: string[];
  /** [count, dim], dequantized for int8. */
  vectors: Float32Array;
}

export interface WorldMeta {
  id: string;
  /** Anything describing the world (e.g. its manifest). */
  [field: string]: unknown;
}

export interface IndexStore {
  listIndexes(): Promise<IndexRecord[]>;
  getIndex(id: string): Promise<IndexRecord | undefined>;
  /** The complete index in use for (world, encoder), if any. */
  activeIndex(worldId: string, encoderId: string): Promise<IndexRecord | undefined>;
  buildIndex(spec: IndexSpec, source: ChunkSource, opts?: BuildOptions): Promise<IndexRecord>;
  loadIndex(id: string): Promise<LoadedIndex>;
  /** Removes an index (its chunks, its record, and the pointer to it if it is active). */
  deleteIndex(id: string): Promise<void>;
  /** Deletes every index of (world, encoder) except the active one; returns the deleted ids. */
  pruneIndexes(worldId: string, encoderId: string): Promise<string[]>;
  putWorld(meta: WorldMeta): Promise<void>;
  getWorld(id: string): Promise<WorldMeta | undefined>;
  listWorlds(): Promise<WorldMeta[]>;
  close(): void;
}

export class StorageQuotaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageQuotaError';
  }
}

/**
 * A content id for a world's corpus: "world-<64-bit FNV-1a hex>" over every passage id and contents, in order.
 * Indexes are keyed by it, so a rebuilt world with other passages never reuses stale vectors.
 */
export function corpusWorldId(corpus: readonly { id: string; contents: string }[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  const feed = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
    }
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193); // record separator
    h2 = Math.imul(h2 ^ 0x1e, 0x01000193);
  };
  for (const r of corpus) {
    feed(r.id);
    feed(r.contents);
  }
  const hex = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');
  return `world-${hex(h1)}${hex(h2)}`;
}

// ---- chunk encoding ----

export function encodeChunk(indexId: string, chunk: number, c: VectorChunk, dim: number, format: VectorFormat): StoredChunk {
  const n = c.ids.length;
  if (c.vectors.length !== n * dim) throw new RangeError(`index chunk ${chunk}: ${c.vectors.length} values for ${n} ids of dim ${dim}`);
  if (format === 'f32') return { indexId, chunk, ids: [...c.ids], format, data: c.vectors.slice().buffer, scales: null };
  const q = new Int8Array(n * dim);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let j = 0; j < dim; j++) m = Math.max(m, Math.abs(c.vectors[r * dim + j]));
    const s = m / 127;
    scales[r] = s;
    if (s > 0) for (let j = 0; j < dim; j++) q[r * dim + j] = Math.max(-127, Math.min(127, Math.round(c.vectors[r * dim + j] / s)));
  }
  return { indexId, chunk, ids: [...c.ids], format, data: q.buffer, scales: scales.buffer };
}

export function decodeChunk(c: StoredChunk, dim: number, out: Float32Array, offset: number): void {
  const n = c.ids.length;
  if (c.format === 'f32') {
    const v = new Float32Array(c.data);
    if (v.length !== n * dim) throw new Error(`index ${c.indexId} chunk ${c.chunk}: ${v.length} values for ${n} ids of dim ${dim}`);
    out.set(v, offset);
    return;
  }
  const q = new Int8Array(c.data);
  const s = new Float32Array(c.scales ?? new ArrayBuffer(0));
  if (q.length !== n * dim || s.length !== n) throw new Error(`index ${c.indexId} chunk ${c.chunk}: malformed int8 chunk`);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) out[offset + r * dim + j] = q[r * dim + j] * s[r];
}

export function chunkBytes(c: StoredChunk): number {
  return c.data.byteLength + (c.scales?.byteLength ?? 0);
}

const MB = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

function checkSpec(spec: IndexSpec): Required<IndexSpec> {
  const s = { chunkSize: DEFAULT_CHUNK_SIZE, format: 'f32' as VectorFormat, ...spec };
  if (!s.worldId || !s.encoderId) throw new RangeError('index: worldId and encoderId must be non-empty');
  for (const [k, v] of [['dim', s.dim], ['count', s.count], ['chunkSize', s.chunkSize]] as const)
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`index: ${k} must be a positive integer, got ${v}`);
  if (s.format !== 'f32' && s.format !== 'int8') throw new RangeError(`index: format must be f32 or int8, got ${String(s.format)}`);
  return s;
}

function newId(): string {
  const rnd = Math.floor(Math.random() * 0x100000000).toString(36).padStart(7, '0');
  return `idx-${Date.now().toString(36)}-${rnd}`;
}

/**
 * The build/load logic over a few storage primitives; IdbIndexStore and FileIndexStore supply them.
 */
export abstract class ChunkedIndexStore implements IndexStore {
  protected abstract readRecords(): Promise<IndexRecord[]>;
  protected abstract readRecord(id: string): Promise<IndexRecord | undefined>;
  /** Stores a (new, incomplete) record. */
  protected abstract writeRecord(rec: IndexRecord): Promise<void>;
  protected abstract chunkNumbers(id: string): Promise<Set<number>>;
  protected abstract readChunk(id: string, chunk: number): Promise<StoredChunk | undefined>;
  /**
   * Stores a chunk. With `finished`, also stores that (complete) record and points (worldId, encoderId) at it,
   * all at once (IndexedDB) or in that order (files).
   */
  protected abstract writeChunk(c: StoredChunk, finished: IndexRecord | null): Promise<void>;
  /** Stores the complete record and switches the pointer (all chunks already present). */
  protected abstract finish(rec: IndexRecord): Promise<void>;
  protected abstract readPointer(worldId: string, encoderId: string): Promise<string | undefined>;
  protected abstract removeIndex(id: string): Promise<void>;
  protected abstract isQuotaError(e: unknown): boolean;
  /** Where the data lives, for messages ("IndexedDB database search-r2", "directory /x"). */
  protected abstract where(): string;
  abstract putWorld(meta: WorldMeta): Promise<void>;
  abstract getWorld(id: string): Promise<WorldMeta | undefined>;
  abstract listWorlds(): Promise<WorldMeta[]>;
  abstract close(): void;

  listIndexes(): Promise<IndexRecord[]> {
    return this.readRecords();
  }

  getIndex(id: string): Promise<IndexRecord | undefined> {
    return this.readRecord(id);
  }

  async activeIndex(worldId: string, encoderId: string): Promise<IndexRecord | undefined> {
    const id = await this.readPointer(worldId, encoderId);
    if (id === undefined) return undefined;
    const rec = await this.readRecord(id);
    return rec?.complete ? rec : undefined;
  }

  async buildIndex(specIn: IndexSpec, source: ChunkSource, opts: BuildOptions = {}): Promise<IndexRecord> {
    const spec = checkSpec(specIn);
    const total = Math.ceil(spec.count / spec.chunkSize);
    const same = (r: IndexRecord): boolean =>
      !r.complete && r.worldId === spec.worldId && r.encoderId === spec.encoderId && r.dim === spec.dim &&
      r.count === spec.count && r.chunkSize === spec.chunkSize && r.format === spec.format;
    const partial = (await this.readRecords()).filter(same).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))[0];
    let rec: IndexRecord;
    if (partial) rec = partial;
    else {
      rec = { id: newId(), worldId: spec.worldId, encoderId: spec.encoderId, dim: spec.dim, count: spec.count, chunkSize: spec.chunkSize,
        chunks: total, format: spec.format, complete: false, createdAt: Date.now(), completedAt: null, bytes: 0 };
      await this.guard(rec, -1, () => this.writeRecord(rec));
    }
    const have = await this.chunkNumbers(rec.id);
    const missing: number[] = [];
    for (let c = 0; c < total; c++) if (!have.has(c)) missing.push(c);
    const resumed = total - missing.length;
    let done = resumed;
    opts.onProgress?.({ done, total, resumed, indexId: rec.id });
    const bytesPerVector = spec.format === 'f32' ? spec.dim * 4 : spec.dim + 4;
    const finished = (): IndexRecord => ({ ...rec, complete: true, completedAt: Date.now(), bytes: spec.count * bytesPerVector });
    if (missing.length === 0) {
      const f = finished();
      await this.guard(rec, -1, () => this.finish(f));
      return f;
    }
    let result = rec;
    for (let i = 0; i < missing.length; i++) {
      opts.signal?.throwIfAborted();
      const c = missing[i];
      const start = c * spec.chunkSize;
      const end = Math.min(spec.count, start + spec.chunkSize);
      const v = await source(c, start, end);
      if (v.ids.length !== end - start) throw new RangeError(`index: chunk ${c} source gave ${v.ids.length} ids, expected ${end - start}`);
      const stored = encodeChunk(rec.id, c, v, spec.dim, spec.format);
      const last = i === missing.length - 1 ? finished() : null;
      await this.guard(rec, c, () => this.writeChunk(stored, last));
      if (last) result = last;
      opts.onProgress?.({ done: ++done, total, resumed, indexId: rec.id });
    }
    return result;
  }

  async loadIndex(id: string): Promise<LoadedIndex> {
    const record = await this.readRecord(id);
    if (!record) throw new Error(`index ${id} is not in ${this.where()}`);
    if (!record.complete) throw new Error(`index ${id} is incomplete (a build was interrupted); build it again to resume`);
    const vectors = new Float32Array(record.count * record.dim);
    const ids: string[] = [];
    for (let c = 0; c < record.chunks; c++) {
      const ch = await this.readChunk(id, c);
      if (!ch) throw new Error(`index ${id}: chunk ${c} is missing from ${this.where()}`);
      decodeChunk(ch, record.dim, vectors, c * record.chunkSize * record.dim);
      ids.push(...ch.ids);
    }
    if (ids.length !== record.count) throw new Error(`index ${id}: ${ids.length} vectors stored, record says ${record.count}`);
    return { record, ids, vectors };
  }

  async deleteIndex(id: string): Promise<void> {
    await this.removeIndex(id);
  }

  async pruneIndexes(worldId: string, encoderId: string): Promise<string[]> {
    const active = await this.readPointer(worldId, encoderId);
    const doomed = (await this.readRecords()).filter((r) => r.worldId === worldId && r.encoderId === encoderId && r.id !== active).map((r) => r.id);
    for (const id of doomed) await this.removeIndex(id);
    return doomed;
  }

  /** Runs a write; a quota failure becomes a StorageQuotaError that says what to delete. */
  private async guard(rec: IndexRecord, chunk: number, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (!this.isQuotaError(e)) throw e;
      throw new StorageQuotaError(await this.quotaMessage(rec, chunk), { cause: e });
    }
  }

  private async quotaMessage(rec: IndexRecord, chunk: number): Promise<string> {
    let others: IndexRecord[] = [];
    let active: string | undefined;
    try {
      others = (await this.readRecords()).filter((r) => r.id !== rec.id);
      active = await this.readPointer(rec.worldId, rec.encoderId);
    } catch {
      // reading may fail too when storage is in trouble; the message still says what to do
    }
    const approx = (r: IndexRecord): number => r.count * (r.format === 'f32' ? r.dim * 4 : r.dim + 4);
    const list = others
      .map((r) => `${r.id} (world ${r.worldId}, encoder ${r.encoderId}, ${r.complete ? '' : 'incomplete, '}${r.id === active ? 'in use, ' : ''}~${MB(approx(r))})`)
      .join('; ');
    const what = chunk < 0 ? 'the record of' : `chunk ${chunk + 1} of ${rec.chunks} of`;
    return [
      `Storage quota exceeded in ${this.where()} while writing ${what} index ${rec.id} (world ${rec.worldId}, encoder ${rec.encoderId}, ~${MB(approx(rec))} in all).`,
      others.length > 0
        ? `Free space by deleting indexes you no longer need: ${list}; or old runs, trajectories and checkpoints.`
        : 'Free space by deleting old runs, trajectories and checkpoints, or other data of this site.',
      rec.format === 'f32' ? 'An int8 index takes about a quarter of the space.' : '',
      active ? `The index in use, ${active}, is unchanged and stays usable.` : 'No previous index of this world and encoder is affected.',
      `Building again resumes from the chunks already written (delete ${rec.id} to drop them).`,
    ].filter(Boolean).join(' ');
  }
}
