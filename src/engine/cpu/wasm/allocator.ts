// The block allocator of the cpu backend's WebAssembly memory: addresses only (the runtime owns the memory and
// grows it through `grow`). Two kinds of blocks:
// - small (<= SMALL_BLOCK bytes, 64-byte granules): exact-size free lists, carved from arenas of ARENA bytes that
//   are themselves large blocks and never return, so small blocks stay together instead of pinning the space
//   between large ones;
// - large (LARGE_GRANULE multiples): best fit over the free regions, the rest of a region split off, freed regions
//   merged with free neighbours on both sides, and a free region that reaches the top of the heap given back to it.
// Why: an allocator with a free list per size class that never merges let a long search-r2 run (rollouts, judge,
// trim and update micro-batches of ever-different shapes) spread its few hundred MiB of live tensors over the whole
// 4 GiB memory and fail at step 41; merging keeps the heap near the live peak.

/** Alignment of every block (bytes). */
export const ALIGN = 64;
/** Blocks up to this size are small (exact 64-byte granules from arenas). */
export const SMALL_BLOCK = 4096;
/** Large blocks are multiples of this. */
export const LARGE_GRANULE = 4096;
/** Bytes of one arena of small blocks. */
export const ARENA = 1 << 20;

/** Bytes of the block that serves a request of `bytes` (> 0). */
export function blockBytes(bytes: number): number {
  if (bytes <= SMALL_BLOCK) return Math.ceil(bytes / ALIGN) * ALIGN;
  return Math.ceil(bytes / LARGE_GRANULE) * LARGE_GRANULE;
}

export interface AllocatorStats {
  /** The heap's top: everything below it was handed out at some point. */
  top: number;
  /** Bytes of blocks in use (small blocks by their granule size, large by theirs; arenas not counted). */
  live: number;
  /** Bytes of free large regions below the top. */
  freeLarge: number;
  /** Free large regions. */
  regions: number;
}

export class BlockAllocator {
  private heapTop: number;
  private live = 0;
  private readonly small = new Map<number, number[]>();
  private arenaAt = 0;
  private arenaEnd = 0;
  /** Free large regions: start -> bytes, and end -> start. */
  private readonly byStart = new Map<number, number>();
  private readonly byEnd = new Map<number, number>();
  private freeLarge = 0;

  /**
   * `base`: the first address to use (aligned up to ALIGN). `grow(end)` makes addresses below `end` usable, or
   * throws when it cannot (the allocator then reports the failure unchanged).
   */
  constructor(
    base: number,
    private readonly grow: (end: number) => void,
  ) {
    this.heapTop = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** The address of a block of at least `bytes` (> 0) bytes, aligned to ALIGN. */
  alloc(bytes: number): number {
    if (!(bytes > 0)) throw new RangeError(`alloc: bytes must be positive, got ${bytes}`);
    const size = blockBytes(bytes);
    if (size <= SMALL_BLOCK) {
      const list = this.small.get(size);
      let ptr: number;
      if (list && list.length > 0) ptr = list.pop() as number;
      else {
        if (this.arenaAt + size > this.arenaEnd) {
          // The old arena's tail stays unused (less than one small block's worth on average).
          this.arenaAt = this.allocLarge(ARENA);
          this.arenaEnd = this.arenaAt + ARENA;
        }
        ptr = this.arenaAt;
        this.arenaAt += size;
      }
      this.live += size;
      return ptr;
    }
    const ptr = this.allocLarge(size);
    this.live += size;
    return ptr;
  }

  /** Returns the block at `ptr` that served a request of `bytes`. */
  release(ptr: number, bytes: number): void {
    if (!(bytes > 0)) return;
    const size = blockBytes(bytes);
    this.live -= size;
    if (size <= SMALL_BLOCK) {
      let list = this.small.get(size);
      if (!list) this.small.set(size, (list = []));
      list.push(ptr);
      return;
    }
    this.freeRegion(ptr, size);
  }

  stats(): AllocatorStats {
    return { top: this.heapTop, live: this.live, freeLarge: this.freeLarge, regions: this.byStart.size };
  }

  /** Forgets every block (the memory is being discarded). */
  clear(): void {
    this.small.clear();
    this.byStart.clear();
    this.byEnd.clear();
    this.freeLarge = 0;
    this.live = 0;
    this.arenaAt = this.arenaEnd = 0;
  }

  private allocLarge(size: number): number {
    // Best fit: the smallest free region that holds `size` (lowest address among equals).
    let best = -1;
    let bestSize = Infinity;
    for (const [start, n] of this.byStart) if (n >= size && (n < bestSize || (n === bestSize && start < best))) {
      best = start;
      bestSize = n;
    }
    if (best >= 0) {
      this.takeRegion(best, bestSize);
      if (bestSize > size) this.putRegion(best + size, bestSize - size);
      return best;
    }
    // A free region that ends at the top was given back to the heap when freed, so none can be extended here.
    const ptr = this.heapTop;
    this.grow(ptr + size);
    this.heapTop = ptr + size;
    return ptr;
  }

  private freeRegion(ptr: number, size: number): void {
    let start = ptr;
    let end = ptr + size;
    const before = this.byEnd.get(start);
    if (before !== undefined) {
      this.takeRegion(before, start - before);
      start = before;
    }
    const after = this.byStart.get(end);
    if (after !== undefined) {
      this.takeRegion(end, after);
      end += after;
    }
    if (end === this.heapTop) this.heapTop = start;
    else this.putRegion(start, end - start);
  }

  private putRegion(start: number, size: number): void {
    this.byStart.set(start, size);
    this.byEnd.set(start + size, start);
    this.freeLarge += size;
  }

  private takeRegion(start: number, size: number): void {
    this.byStart.delete(start);
    this.byEnd.delete(start + size);
    this.freeLarge -= size;
  }
}
