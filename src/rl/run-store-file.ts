// Run states in Node: DIR/<id>/state.safetensors and DIR/<id>/run.json (the SavedRunRef), the pair written
// together: a temporary sibling directory renamed into place (the previous save moved aside, then removed).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SavedRunRef } from '../worker/train-protocol.ts';
import { RunStateError, type RunStore } from './run-state.ts';

const safeId = (id: string): string => {
  if (!/^[A-Za-z0-9._+-]+$/.test(id)) throw new RunStateError('id', `run id "${id}" must be letters, digits, . _ + -`);
  return id;
};

export class FileRunStore implements RunStore {
  constructor(readonly dir: string) {}

  async save(ref: SavedRunRef, bytes: Uint8Array): Promise<void> {
    const d = resolve(join(this.dir, safeId(ref.id)));
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${d}.tmp-${process.pid}-${Date.now().toString(36)}`;
    mkdirSync(tmp);
    try {
      writeFileSync(join(tmp, 'state.safetensors'), bytes);
      writeFileSync(join(tmp, 'run.json'), `${JSON.stringify(ref, null, 2)}\n`);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    const old = existsSync(d) ? `${d}.old-${process.pid}-${Date.now().toString(36)}` : null;
    if (old) renameSync(d, old);
    renameSync(tmp, d);
    if (old) rmSync(old, { recursive: true, force: true });
  }

  async load(id: string): Promise<{ ref: SavedRunRef; bytes: Uint8Array }> {
    const d = join(this.dir, safeId(id));
    if (!existsSync(join(d, 'run.json'))) throw new RunStateError('id', `no saved run "${id}" in ${this.dir}`);
    const ref = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as SavedRunRef;
    const p = join(d, 'state.safetensors');
    if (!existsSync(p)) throw new RunStateError('checkpoint', `${p} is missing`);
    return { ref, bytes: new Uint8Array(readFileSync(p)) };
  }

  async list(): Promise<SavedRunRef[]> {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => existsSync(join(this.dir, n, 'run.json')) && existsSync(join(this.dir, n, 'state.safetensors')))
      .map((n) => JSON.parse(readFileSync(join(this.dir, n, 'run.json'), 'utf8')) as SavedRunRef);
  }

  async delete(id: string): Promise<void> {
    rmSync(join(this.dir, safeId(id)), { recursive: true, force: true });
  }
}
