// Seeded helpers over the engine's Rng: one independent stream per purpose, shuffles and samples.
import { Rng } from '../engine/rng.ts';

/** A 32-bit seed for `purpose`, derived from the world seed (FNV-1a over the label, mixed with the seed). */
export function streamSeed(seed: number, purpose: string): number {
  let h = 0x811c9dc5 ^ (Math.trunc(seed) >>> 0);
  for (let i = 0; i < purpose.length; i++) {
    h ^= purpose.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= Math.trunc(seed / 4294967296) >>> 0;
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

export function stream(seed: number, purpose: string): Rng {
  return new Rng(streamSeed(seed, purpose));
}

/** Fisher-Yates in place; returns the array. */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** k items without replacement (all of them, shuffled, when k >= length). */
export function sample<T>(rng: Rng, items: readonly T[], k: number): T[] {
  return shuffle(rng, [...items]).slice(0, Math.max(0, k));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick: empty list');
  return items[rng.int(items.length)];
}

/** The items by key, keys in sorted order (so groups do not depend on the order the items came in). */
export function groupBy<T>(items: readonly T[], keyOf: (x: T) => string): { key: string; items: T[] }[] {
  const byKey = new Map<string, T[]>();
  for (const x of items) {
    const k = keyOf(x);
    const list = byKey.get(k);
    if (list) list.push(x);
    else byKey.set(k, [x]);
  }
  return [...byKey.keys()].sort().map((key) => ({ key, items: byKey.get(key) ?? [] }));
}

/** Round-robin over the values of `key`: one item of each in turn (each list ordered by `inner`, keys shuffled). */
export function roundRobin<T>(rng: Rng, items: readonly T[], key: (t: T) => string, inner: (list: T[]) => T[]): T[] {
  const lists = shuffle(rng, groupBy(items, key)).map((g) => inner(g.items));
  const out: T[] = [];
  for (let i = 0; out.length < items.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}
