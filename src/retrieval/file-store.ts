// The Node CLI's storage: the IndexStore of index-store.ts on files under a directory.
//
//   DIR/worlds/<world id>.json
//   DIR/indexes/<index id>/record.json                 IndexRecord
//   DIR/indexes/<index id>/chunk-000000.bin            "SR2C", u32 header length, header JSON {indexId, chunk,
//                                                      format, ids, dataBytes, scalesBytes}, zero padding to 4
//                                                      bytes, vector data (f32 or int8), then f32 scales (int8)
//   DIR/active/<world id>__<encoder id>.json           {worldId, encoderId, indexId, switchedAt}
// (ids are percent-encoded into file names). Every file is written under a temporary name in the same
// directory, flushed, and renamed into place, so a file that exists is whole; leftover temporaries of a crash are
// ignored. Completion order: last chunk, then the complete record, then the pointer (see index-store.ts).
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ChunkedIndexStore, type IndexRecord, type StoredChunk, type WorldMeta } from './index-store.ts';

const MAGIC = 0x43325253; // "SR2C" little-endian
const CHUNK_RE = /^chunk-(\d{6,})\.bin$/;

export interface FileStoreOptions {
  /** Called with the final path just before each rename (tests use it to fail part-way). */
  beforeRename?: (path: string) => void;
}

const fileName = (id: string): string => encodeURIComponent(id).replace(/^\./, '%2E');
const chunkFile = (chunk: number): string => `chunk-${String(chunk).padStart(6, '0')}.bin`;

function isNoEntry(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

export function encodeChunkFile(c: StoredChunk): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ indexId: c.indexId, chunk: c.chunk, format: c.format, ids: c.ids, dataBytes: c.data.byteLength, scalesBytes: c.scales?.byteLength ?? 0 }),
  );
  const headerEnd = 8 + header.length;
  const dataAt = Math.ceil(headerEnd / 4) * 4;
  const scalesAt = dataAt + Math.ceil(c.data.byteLength / 4) * 4;
  const out = new Uint8Array(scalesAt + (c.scales?.byteLength ?? 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, header.length, true);
  out.set(header, 8);
  out.set(new Uint8Array(c.data), dataAt);
  if (c.scales) out.set(new Uint8Array(c.scales), scalesAt);
  return out;
}

export function decodeChunkFile(bytes: Uint8Array, path: string): StoredChunk {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || dv.getUint32(0, true) !== MAGIC) throw new Error(`${path}: not an index chunk file`);
  const hlen = dv.getUint32(4, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as {
    indexId: string; chunk: number; format: StoredChunk['format']; ids: string[]; dataBytes: number; scalesBytes: number;
  };
  const dataAt = Math.ceil((8 + hlen) / 4) * 4;
  const scalesAt = dataAt + Math.ceil(h.dataBytes / 4) * 4;
  if (scalesAt + h.scalesBytes > bytes.length) throw new Error(`${path}: truncated index chunk file`);
  const copy = (at: number, n: number): ArrayBuffer => bytes.slice(at, at + n).buffer;
  return { indexId: h.indexId, chunk: h.chunk, format: h.format, ids: h.ids, data: copy(dataAt, h.dataBytes), scales: h.format === 'int8' ? copy(scalesAt, h.scalesBytes) : null };
}

export class FileIndexStore extends ChunkedIndexStore {
  private constructor(
    readonly dir: string,
    private readonly opts: FileStoreOptions,
  ) {
    super();
  }

  static async open(dir: string, opts: FileStoreOptions = {}): Promise<FileIndexStore> {
    for (const sub of ['worlds', 'indexes', 'active']) await mkdir(join(dir, sub), { recursive: true });
    return new FileIndexStore(dir, opts);
  }

  protected where(): string {
    return `directory ${this.dir}`;
  }

  protected isQuotaError(e: unknown): boolean {
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    return code === 'ENOSPC' || code === 'EDQUOT';
  }

  private async writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.opts.beforeRename?.(path);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  private async readJson<T>(path: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (e) {
      if (isNoEntry(e)) return undefined;
      throw new Error(`${path}: cannot read (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  private indexDir(id: string): string {
    return join(this.dir, 'indexes', fileName(id));
  }

  private pointerPath(worldId: string, encoderId: string): string {
    return join(this.dir, 'active', `${fileName(worldId)}__${fileName(encoderId)}.json`);
  }

  protected async readRecords(): Promise<IndexRecord[]> {
    const out: IndexRecord[] = [];
    for (const name of (await readdir(join(this.dir, 'indexes'))).sort()) {
      const rec = await this.readJson<IndexRecord>(join(this.dir, 'indexes', name, 'record.json'));
      if (rec) out.push(rec);
    }
    return out;
  }

  protected readRecord(id: string): Promise<IndexRecord | undefined> {
    return this.readJson<IndexRecord>(join(this.indexDir(id), 'record.json'));
  }

  protected async writeRecord(rec: IndexRecord): Promise<void> {
    await mkdir(this.indexDir(rec.id), { recursive: true });
    await this.writeAtomic(join(this.indexDir(rec.id), 'record.json'), `${JSON.stringify(rec, null, 2)}\n`);
  }

  protected async chunkNumbers(id: string): Promise<Set<number>> {
    try {
      return new Set((await readdir(this.indexDir(id))).flatMap((n) => (CHUNK_RE.test(n) ? [Number(CHUNK_RE.exec(n)![1])] : [])));
    } catch (e) {
      if (isNoEntry(e)) return new Set();
      throw e;
    }
  }

  protected async readChunk(id: string, chunk: number): Promise<StoredChunk | undefined> {
    const path = join(this.indexDir(id), chunkFile(chunk));
    try {
      return decodeChunkFile(new Uint8Array(await readFile(path)), path);
    } catch (e) {
      if (isNoEntry(e)) return undefined;
      throw e;
    }
  }

  protected async writeChunk(c: StoredChunk, finished: IndexRecord | null): Promise<void> {
    await this.writeAtomic(join(this.indexDir(c.indexId), chunkFile(c.chunk)), encodeChunkFile(c));
    if (finished) await this.finish(finished);
  }

  protected async finish(rec: IndexRecord): Promise<void> {
    await this.writeRecord(rec);
    await this.writeAtomic(
      this.pointerPath(rec.worldId, rec.encoderId),
      `${JSON.stringify({ worldId: rec.worldId, encoderId: rec.encoderId, indexId: rec.id, switchedAt: Date.now() })}\n`,
    );
  }

  protected async readPointer(worldId: string, encoderId: string): Promise<string | undefined> {
    return (await this.readJson<{ indexId: string }>(this.pointerPath(worldId, encoderId)))?.indexId;
  }

  protected async removeIndex(id: string): Promise<void> {
    const rec = await this.readRecord(id);
    if (rec && (await this.readPointer(rec.worldId, rec.encoderId)) === id) await rm(this.pointerPath(rec.worldId, rec.encoderId), { force: true });
    // The record first: a removal cut short leaves an unlisted directory, never a listed index missing chunks.
    await rm(join(this.indexDir(id), 'record.json'), { force: true });
    await rm(this.indexDir(id), { recursive: true, force: true });
  }

  async putWorld(meta: WorldMeta): Promise<void> {
    await this.writeAtomic(join(this.dir, 'worlds', `${fileName(meta.id)}.json`), `${JSON.stringify(meta)}\n`);
  }

  getWorld(id: string): Promise<WorldMeta | undefined> {
    return this.readJson<WorldMeta>(join(this.dir, 'worlds', `${fileName(id)}.json`));
  }

  async listWorlds(): Promise<WorldMeta[]> {
    const out: WorldMeta[] = [];
    for (const n of (await readdir(join(this.dir, 'worlds'))).sort())
      if (n.endsWith('.json') && !n.startsWith('.')) {
        const w = await this.readJson<WorldMeta>(join(this.dir, 'worlds', n));
        if (w) out.push(w);
      }
    return out;
  }

  close(): void {
    // nothing held open
  }
}
