// JSON Lines in and out. Reading names the file, the line and the field of whatever is malformed; writing is
// atomic: a file (or a whole directory of files) is written under a temporary name beside its destination and
// renamed into place, so a failure leaves nothing half-written.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export class JsonlError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | null,
    problem: string,
  ) {
    super(`${file}:${line}: ${field === null ? '' : `field "${field}": `}${problem}`);
    this.name = 'JsonlError';
  }
}

/** Where a record came from, for error messages. */
export interface At {
  file: string;
  line: number;
}

export type Validate<T> = (value: unknown, at: At) => T;

/** Parses JSONL text: one JSON value per non-empty line, each checked by `validate`. */
export function parseJsonl<T>(text: string, file: string, validate: Validate<T>): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new JsonlError(file, i + 1, null, `invalid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    out.push(validate(value, { file, line: i + 1 }));
  }
  return out;
}

export function readJsonl<T>(path: string, validate: Validate<T>): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseJsonl(text, path, validate);
}

export function toJsonl(records: readonly unknown[]): string {
  let s = '';
  for (const r of records) s += `${JSON.stringify(r)}\n`;
  return s;
}

// ---- field checks for validators ----

export function asObject(value: unknown, at: At): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JsonlError(at.file, at.line, null, `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  return value as Record<string, unknown>;
}

function describe(v: unknown): string {
  return v === undefined ? 'missing' : Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

export function reqString(o: Record<string, unknown>, field: string, at: At, opts: { nonEmpty?: boolean } = {}): string {
  const v = o[field];
  if (typeof v !== 'string') throw new JsonlError(at.file, at.line, field, `expected a string, got ${describe(v)}`);
  if (opts.nonEmpty && v.trim() === '') throw new JsonlError(at.file, at.line, field, 'must not be empty');
  return v;
}

/** A string, or a number turned into its decimal string (ids are numbers in some Search-R1 files). */
export function reqId(o: Record<string, unknown>, field: string, at: At): string {
  const v = o[field];
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return reqString(o, field, at, { nonEmpty: true });
}

export function reqStringArray(o: Record<string, unknown>, field: string, at: At, opts: { nonEmpty?: boolean } = {}): string[] {
  const v = o[field];
  if (!Array.isArray(v)) throw new JsonlError(at.file, at.line, field, `expected an array of strings, got ${describe(v)}`);
  v.forEach((x, i) => {
    if (typeof x !== 'string') throw new JsonlError(at.file, at.line, `${field}[${i}]`, `expected a string, got ${describe(x)}`);
  });
  if (opts.nonEmpty && v.length === 0) throw new JsonlError(at.file, at.line, field, 'must not be empty');
  return v as string[];
}

export function reqInt(o: Record<string, unknown>, field: string, at: At, min = 0): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new JsonlError(at.file, at.line, field, `expected an integer >= ${min}, got ${typeof v === 'number' ? v : describe(v)}`);
  return v;
}

// ---- atomic writes ----

function tempName(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
}

/** Writes `data` to `path` through a temporary file in the same directory and a rename. */
export function writeFileAtomic(path: string, data: string): void {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export interface DirWriteOptions {
  /** An existing non-empty directory is replaced only when this says it may be (e.g. it holds a world.json). */
  mayReplace: (dir: string) => boolean;
  /** Called after each file is written (tests use it to fail part-way). */
  onFile?: (relPath: string) => void;
}

/**
 * Writes a whole directory at once: every file goes into a temporary sibling directory, which is then renamed to
 * `dir`. An existing `dir` is moved aside first and removed after the swap, so at no point is there a
 * half-written `dir`; on failure the temporary directory is removed and `dir` is left as it was.
 */
export function writeDirAtomic(dir: string, files: ReadonlyMap<string, string>, opts: DirWriteOptions): void {
  const target = resolve(dir);
  const exists = existsSync(target);
  if (exists) {
    if (!statSync(target).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
    if (readdirSync(target).length > 0 && !opts.mayReplace(target))
      throw new Error(`${dir} exists, is not empty and is not ours to replace; choose another --out`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    mkdirSync(tmp);
    for (const [rel, data] of files) {
      if (rel.startsWith('/') || rel.split('/').includes('..')) throw new Error(`bad relative path ${rel}`);
      const p = join(tmp, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data);
      opts.onFile?.(rel);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (!exists) {
    renameSync(tmp, target);
    return;
  }
  const old = tempName(`${target}.old`);
  renameSync(target, old);
  try {
    renameSync(tmp, target);
  } catch (e) {
    renameSync(old, target);
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}
