// The cpu backend's block allocator (src/engine/cpu/wasm/allocator.ts) on addresses alone: block sizes, small
// blocks from arenas, best fit with splitting, merging of freed neighbours, the top given back, the out-of-memory
// path, and a seeded random workload that never hands out overlapping blocks and returns to an empty heap.
import { describe, expect, it } from 'vitest';
import { ALIGN, ARENA, BlockAllocator, blockBytes, LARGE_GRANULE, SMALL_BLOCK } from '../../src/engine/cpu/wasm/allocator.ts';
import { Rng } from '../../src/engine/rng.ts';

const KiB = 1024;

/** An allocator over [base, limit): `grow` refuses past the limit like a WebAssembly memory at its maximum. */
function make(base = 1000, limit = 1 << 30): { a: BlockAllocator; grown: () => number } {
  let high = 0;
  const a = new BlockAllocator(base, (end) => {
    if (end > limit) throw new Error(`cannot grow to ${end}`);
    high = Math.max(high, end);
  });
  return { a, grown: () => high };
}

describe('block sizes', () => {
  it('are 64-byte granules up to SMALL_BLOCK, then multiples of LARGE_GRANULE', () => {
    expect(blockBytes(1)).toBe(ALIGN);
    expect(blockBytes(64)).toBe(64);
    expect(blockBytes(65)).toBe(128);
    expect(blockBytes(SMALL_BLOCK)).toBe(SMALL_BLOCK);
    expect(blockBytes(SMALL_BLOCK + 1)).toBe(2 * LARGE_GRANULE);
    expect(blockBytes(20000)).toBe(20480);
  });
});

describe('BlockAllocator', () => {
  it('carves small blocks from one arena and reuses a freed one of the same size', () => {
    const { a } = make(1000);
    const p = a.alloc(100);
    const q = a.alloc(100);
    expect(p).toBe(1024); // base aligned up to 64
    expect(q).toBe(p + 128);
    expect(a.stats()).toMatchObject({ top: 1024 + ARENA, live: 256 });
    a.release(p, 100);
    expect(a.alloc(128)).toBe(p);
    expect(a.alloc(64)).toBe(q + 128);
  });

  it('fits large blocks best, splits the rest off, merges freed neighbours and gives the top back', () => {
    const { a } = make(0);
    const x = a.alloc(8 * KiB);
    const y = a.alloc(16 * KiB);
    const z = a.alloc(8 * KiB);
    const w = a.alloc(40 * KiB);
    expect([x, y, z, w]).toEqual([0, 8 * KiB, 24 * KiB, 32 * KiB]);
    a.release(x, 8 * KiB);
    a.release(z, 8 * KiB);
    expect(a.stats()).toMatchObject({ freeLarge: 16 * KiB, regions: 2 });
    // Best fit: an 8 KiB request takes the lowest 8 KiB hole, not a bigger one.
    expect(a.alloc(6 * KiB)).toBe(x);
    a.release(x, 6 * KiB);
    // y freed between two free regions: one region of 32 KiB.
    a.release(y, 16 * KiB);
    expect(a.stats()).toMatchObject({ freeLarge: 32 * KiB, regions: 1 });
    // A 20 KiB request is split from it; the 12 KiB rest stays free.
    expect(a.alloc(20 * KiB)).toBe(0);
    expect(a.stats()).toMatchObject({ freeLarge: 12 * KiB, regions: 1, live: 60 * KiB });
    // Freeing the top block hands it and the free region below it back to the heap.
    a.release(0, 20 * KiB);
    a.release(w, 40 * KiB);
    expect(a.stats()).toEqual({ top: 0, live: 0, freeLarge: 0, regions: 0 });
  });

  it('passes the failure on when the memory cannot grow, and serves the request once a region is free', () => {
    const { a } = make(0, 64 * KiB);
    const p = a.alloc(32 * KiB);
    a.alloc(24 * KiB);
    expect(() => a.alloc(16 * KiB)).toThrow(/cannot grow to/);
    a.release(p, 32 * KiB);
    expect(a.alloc(16 * KiB)).toBe(p);
    expect(a.alloc(16 * KiB)).toBe(p + 16 * KiB);
  });

  it('never hands out overlapping blocks under a random workload, and frees back to the arenas and merged regions', () => {
    const { a, grown } = make(4096);
    const rng = new Rng(7);
    const live = new Map<number, number>();
    let peakLive = 0;
    for (let i = 0; i < 20000; i++) {
      if (live.size > 0 && rng.nextF32() < 0.48) {
        const keys = [...live.keys()];
        const p = keys[Math.floor(rng.nextF32() * keys.length)];
        a.release(p, live.get(p) as number);
        live.delete(p);
      } else {
        // Mostly small, some large up to 3 MiB, sizes not multiples of anything.
        const big = rng.nextF32() < 0.3;
        const bytes = 1 + Math.floor(rng.nextF32() * (big ? 3 * 2 ** 20 : 5000));
        const p = a.alloc(bytes);
        expect(p % ALIGN).toBe(0);
        expect(p).toBeGreaterThanOrEqual(4096);
        live.set(p, bytes);
      }
      if (i % 997 === 0) {
        const spans = [...live].map(([p, b]) => [p, p + blockBytes(b)] as const).sort((u, v) => u[0] - v[0]);
        for (let j = 1; j < spans.length; j++) expect(spans[j][0]).toBeGreaterThanOrEqual(spans[j - 1][1]);
        expect(spans.at(-1)?.[1] ?? 0).toBeLessThanOrEqual(a.stats().top);
      }
      const liveBytes = [...live.values()].reduce((s, b) => s + blockBytes(b), 0);
      expect(a.stats().live).toBe(liveBytes);
      peakLive = Math.max(peakLive, liveBytes);
    }
    // Merging keeps the heap within a small factor of the live peak (power-of-two classes that never merge went
    // far beyond it).
    expect(grown()).toBeLessThan(3 * peakLive);
    for (const [p, b] of live) a.release(p, b);
    // Everything is free but the arenas of small blocks (they never return), and free neighbours are merged:
    // at most one region between two arenas.
    const st = a.stats();
    expect(st.live).toBe(0);
    const arenas = (st.top - 4096 - st.freeLarge) / ARENA;
    expect(Number.isInteger(arenas)).toBe(true);
    expect(st.regions).toBeLessThanOrEqual(arenas + 1);
  });
});
