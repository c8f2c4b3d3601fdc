// The fast cpu backend's runtime: one WebAssembly.Memory holding every tensor, a size-class free-list allocator over
// it, the kernel instance of the calling thread and, where the platform allows, one helper thread on the same
// (shared) memory that shares the chunks of the large kernels. One runtime per thread count is shared by every backend
// created in a realm (reference counted), so tests that create many backends start one helper, not many.
import { ShapeError } from '../../errors.ts';
import type { DType, MemoryStats } from '../../types.ts';
import {
  ARG_SLOTS, CTRL_CHUNK, CTRL_COUNT, CTRL_DONE, CTRL_END, CTRL_ERROR, CTRL_FN, CTRL_JOB, CTRL_NARGS, CTRL_NEXT,
  CTRL_NOFF, CTRL_OFF, CTRL_START, CTRL_STATE, CTRL_TOTAL, CTRL_WORDS, MAX_ARGS, MAX_OFFSETS, TAG_MASK, type HelperHandle,
  isNode, startHelper,
} from './helper.ts';
import { BlockAllocator } from './allocator.ts';
import { type KernelName, type Kernels, THREADED_KERNELS, kernelModule } from './kernels.ts';

const PAGE = 65536;
/** Wasm32 limit: 4 GiB. */
const MAX_PAGES = 65536;
const INITIAL_PAGES = 160;
/** How long the helper polls for the next job before it sleeps (ops of a training step come back to back). */
const HELPER_SPIN_MS = 0.05;

/**
 * Below these amounts of work a kernel runs on the calling thread alone: waking a sleeping helper costs ~30-100 us
 * (about 1 us while it still polls, for a moment after its last job), so a split must save more than that.
 */
export const PARALLEL_MIN = {
  /** multiply-adds of a matmul (2^21: ~80 us on one thread) */
  gemm: 1 << 21,
  /** multiply-adds of the score and value products of an attention call */
  attention: 1 << 20,
  /** elements of an elementwise / row kernel */
  elements: 1 << 18,
};

/** Overrides the split thresholds (tests set them to 1 to split every kernel); returns the previous values. */
export function setParallelMin(values: Partial<typeof PARALLEL_MIN>): typeof PARALLEL_MIN {
  const prev = { ...PARALLEL_MIN };
  Object.assign(PARALLEL_MIN, values);
  return prev;
}

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

export interface ThreadMode {
  threads: 1 | 2;
  /** Why one thread when two were wanted; empty with two threads or when one was asked for. */
  reason: string;
}

/** Whether this thread can run the 2-thread runtime, and if not, why. */
export function threadSupport(): { ok: true } | { ok: false; reason: string } {
  if (typeof SharedArrayBuffer === 'undefined') return { ok: false, reason: 'no cross-origin isolation' };
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) return { ok: false, reason: 'no cross-origin isolation' };
  try {
    // Throws a TypeError on threads that may not block (a browser page's main thread); never waits (value differs).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return { ok: false, reason: 'Atomics.wait is not allowed on this thread' };
  }
  if (!isNode() && typeof Worker === 'undefined') return { ok: false, reason: 'no Worker on this thread' };
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const cores = isNode() ? null : nav?.hardwareConcurrency;
  if (typeof cores === 'number' && cores < 2) return { ok: false, reason: 'one core' };
  return { ok: true };
}

/**
 * How a kernel's work is cut into chunks: `total` units (rows, columns, pairs, elements) in chunks of `chunk`. For
 * the chunk [s, e): args[start] = s, args[end] = e, args[count] = e - s, and args[i] += s * bytes for each offset.
 */
export interface ChunkPlan {
  total: number;
  chunk: number;
  start?: number;
  end?: number;
  count?: number;
  offsets?: readonly (readonly [index: number, bytes: number])[];
}

export class WasmRuntime {
  /** Kernels of the calling thread's instance. */
  readonly k: Kernels;
  readonly threads: 1 | 2;
  /** "2 threads" or "1 thread (why)". */
  readonly threadNote: string;
  private f32v!: Float32Array;
  private i32v!: Int32Array;
  private u32v!: Uint32Array;
  private f64v!: Float64Array;
  /** Addresses of the tensors' blocks (allocator.ts). */
  private readonly blocks: BlockAllocator;
  private readonly registry: FinalizationRegistry<{ ptr: number; bytes: number }>;
  /** gemm scratch of the calling thread [0] and the helper [1]. */
  readonly work: number[] = [];
  private ctrl: Int32Array | null = null;
  private args: Float64Array | null = null;
  private seq = 0;
  private closed = false;
  /** Jobs published to the helper thread (for tests and diagnostics). */
  helperJobs = 0;
  /** Of those, jobs the calling thread finished alone and withdrew before the helper claimed them. */
  withdrawn = 0;
  refs = 0;

  private constructor(
    readonly memory: WebAssembly.Memory,
    instance: WebAssembly.Instance,
    private helper: HelperHandle | null,
    ctrl: SharedArrayBuffer | null,
    args: SharedArrayBuffer | null,
    mode: ThreadMode,
  ) {
    this.k = instance.exports as unknown as Kernels;
    this.threads = helper ? 2 : 1;
    this.threadNote = helper ? '2 threads' : `1 thread${mode.reason ? ` (${mode.reason})` : ''}`;
    if (ctrl && args) {
      this.ctrl = new Int32Array(ctrl);
      this.args = new Float64Array(args);
    }
    this.refreshViews();
    this.blocks = new BlockAllocator(Math.max(this.k.heapBase(), 1024), (end) => this.ensure(end));
    this.registry = new FinalizationRegistry(({ ptr, bytes }) => {
      if (!this.closed) this.release(ptr, bytes);
    });
    const scratch = this.k.gemmScratchBytes();
    for (let t = 0; t < this.threads; t++) this.work.push(this.alloc(scratch));
  }

  /** Builds a runtime: `threads` 2 starts a helper when the platform allows (else 1, with the reason). */
  static async create(threads: 1 | 2): Promise<WasmRuntime> {
    let mode: ThreadMode = { threads: 1, reason: '' };
    if (threads === 2) {
      const s = threadSupport();
      mode = s.ok ? { threads: 2, reason: '' } : { threads: 1, reason: s.reason };
    }
    if (mode.threads === 2) {
      try {
        return await WasmRuntime.createThreaded();
      } catch (e) {
        mode = { threads: 1, reason: `helper thread unavailable: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    const module = await kernelModule('single');
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    return new WasmRuntime(memory, instance, null, null, null, mode);
  }

  private static async createThreaded(): Promise<WasmRuntime> {
    const module = await kernelModule('shared');
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    } catch {
      memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES / 4, shared: true });
    }
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const ctrl = new SharedArrayBuffer(CTRL_WORDS * 4);
    const args = new SharedArrayBuffer(ARG_SLOTS * 8);
    const helper = await startHelper({ module, memory, ctrl, args, names: [...THREADED_KERNELS], spinMs: HELPER_SPIN_MS });
    return new WasmRuntime(memory, instance, helper, ctrl, args, { threads: 2, reason: '' });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- memory --------------------------------------------------------------------------------------------------

  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.f32v = new Float32Array(buf);
    this.i32v = new Int32Array(buf);
    this.u32v = new Uint32Array(buf);
    this.f64v = new Float64Array(buf);
  }

  /** Views over the whole memory (valid until the next allocation, which may grow it). */
  get f32(): Float32Array {
    return this.f32v;
  }
  get i32(): Int32Array {
    return this.i32v;
  }
  get u32(): Uint32Array {
    return this.u32v;
  }
  get f64(): Float64Array {
    return this.f64v;
  }

  /** A view of `n` elements of `dtype` at byte address `ptr`. */
  view(dtype: DType, ptr: number, n: number): Float32Array | Int32Array | Uint32Array {
    const o = ptr >>> 2;
    if (dtype === 'f32') return this.f32v.subarray(o, o + n);
    if (dtype === 'i32') return this.i32v.subarray(o, o + n);
    return this.u32v.subarray(o, o + n);
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const need = Math.ceil((end - have) / PAGE);
    const pages = have / PAGE;
    try {
      this.memory.grow(Math.max(need, Math.min(Math.ceil(pages / 4), MAX_PAGES - pages)));
    } catch {
      try {
        this.memory.grow(need);
      } catch {
        const st = this.blocks.stats();
        throw new ShapeError(
          `cpu (wasm): out of memory: ${mib(end)} MiB needed, the WebAssembly memory cannot grow past ${mib(have)} MiB (live blocks ${mib(st.live)} MiB; free ${mib(st.freeLarge)} MiB in ${st.regions} regions, none large enough); dispose unused tensors`,
        );
      }
    }
    this.refreshViews();
  }

  /** A 64-byte aligned block of at least `bytes` bytes (address 0 for an empty block). Views may be stale after. */
  alloc(bytes: number): number {
    if (this.closed) throw new ShapeError('cpu (wasm): this backend was disposed');
    if (bytes <= 0) return 0;
    return this.blocks.alloc(bytes);
  }

  /** Heap handed out from the top so far, blocks live in it, and the memory's size (bytes). */
  memoryStats(): MemoryStats {
    const st = this.blocks.stats();
    return { heapBytes: st.top, liveBytes: st.live, memoryBytes: this.memory.buffer.byteLength };
  }

  release(ptr: number, bytes: number): void {
    if (bytes <= 0 || this.closed) return;
    this.blocks.release(ptr, bytes);
  }

  /** Frees `ptr` when `owner` is garbage-collected without dispose(). */
  track(owner: object, ptr: number, bytes: number): void {
    if (bytes > 0) this.registry.register(owner, { ptr, bytes }, owner);
  }

  untrack(owner: object): void {
    this.registry.unregister(owner);
  }

  /** Bytes handed out from the top of memory so far (for tests and diagnostics). */
  get highWater(): number {
    return this.blocks.stats().top;
  }

  // ---- threads ---------------------------------------------------------------------------------------------------

  /** Whether a kernel of this much work should be split (a helper exists and the work is worth waking it). */
  splits(work: number, min: number): boolean {
    return this.helper !== null && work >= min;
  }

  /**
   * Runs kernel `name` over `plan.total` units in chunks shared by this thread (arguments `mine`) and the helper
   * (arguments `theirs`: the same, but with its own scratch). Returns when every chunk is done. Without a helper
   * this thread runs them all.
   */
  runChunked(name: KernelName, mine: readonly number[], theirs: readonly number[], plan: ChunkPlan): void {
    const fn = this.k[name] as (...a: number[]) => void;
    const ctrl = this.ctrl;
    const args = this.args;
    const offsets = plan.offsets ?? [];
    if (theirs.length !== mine.length || mine.length > MAX_ARGS) throw new Error(`cpu (wasm): bad arguments for ${name}`);
    if (offsets.length > MAX_OFFSETS) throw new Error(`cpu (wasm): too many offset arguments for ${name}`);
    const chunkArgs = (base: readonly number[], s: number, e: number): number[] => {
      const a = base.slice();
      if (plan.start !== undefined) a[plan.start] = s;
      if (plan.end !== undefined) a[plan.end] = e;
      if (plan.count !== undefined) a[plan.count] = e - s;
      for (const [i, bytes] of offsets) a[i] += s * bytes;
      return a;
    };
    const { total, chunk } = plan;
    if (!this.helper || !ctrl || !args) {
      for (let s = 0; s < total; s += chunk) fn(...chunkArgs(mine, s, Math.min(total, s + chunk)));
      return;
    }
    const index = THREADED_KERNELS.indexOf(name);
    if (index < 0) throw new Error(`cpu (wasm): ${name} cannot run on the helper thread`);
    for (let i = 0; i < theirs.length; i++) args[i] = theirs[i];
    offsets.forEach(([i, bytes], k) => {
      ctrl[CTRL_OFF + k] = i;
      args[MAX_ARGS + k] = bytes;
    });
    ctrl[CTRL_NOFF] = offsets.length;
    ctrl[CTRL_START] = plan.start ?? -1;
    ctrl[CTRL_END] = plan.end ?? -1;
    ctrl[CTRL_COUNT] = plan.count ?? -1;
    ctrl[CTRL_TOTAL] = total;
    ctrl[CTRL_CHUNK] = chunk;
    ctrl[CTRL_NARGS] = theirs.length;
    ctrl[CTRL_ERROR] = 0;
    Atomics.store(ctrl, CTRL_NEXT, 0);
    Atomics.store(ctrl, CTRL_FN, index);
    let seq = this.seq;
    do seq = (seq + 1) | 0;
    while ((seq & TAG_MASK) === 0);
    this.seq = seq;
    const tag = seq & TAG_MASK;
    this.helperJobs++;
    Atomics.store(ctrl, CTRL_STATE, tag);
    Atomics.store(ctrl, CTRL_JOB, seq);
    Atomics.notify(ctrl, CTRL_JOB);
    let failure: unknown = null;
    const t0 = performance.now();
    try {
      for (;;) {
        const s = Atomics.add(ctrl, CTRL_NEXT, 1) * chunk;
        if (s >= total) break;
        fn(...chunkArgs(mine, s, Math.min(total, s + chunk)));
      }
    } catch (e) {
      failure = e;
      Atomics.store(ctrl, CTRL_NEXT, 1 << 30); // leave the rest to nobody: the op fails anyway
    }
    // Not claimed yet: withdraw it (the helper will leave it alone) instead of waiting for a thread that may not
    // even be scheduled; claimed: wait for its chunk.
    if (Atomics.compareExchange(ctrl, CTRL_STATE, tag, 0) !== tag) this.waitDone(seq, performance.now() - t0);
    else this.withdrawn++;
    if (failure) throw failure;
    if (Atomics.load(ctrl, CTRL_ERROR) !== 0) throw new Error(`cpu (wasm): ${name} failed on the helper thread`);
  }

  private waitDone(seq: number, mineMs: number): void {
    const ctrl = this.ctrl as Int32Array;
    for (let i = 0; i < 2000; i++) if (Atomics.load(ctrl, CTRL_DONE) === seq) return;
    // The helper runs the same amount of work as this thread: far longer than that means it is gone.
    const limit = Math.max(30_000, 50 * mineMs);
    const start = performance.now();
    for (;;) {
      const done = Atomics.load(ctrl, CTRL_DONE);
      if (done === seq) return;
      Atomics.wait(ctrl, CTRL_DONE, done, 1000);
      if (performance.now() - start > limit) {
        this.helper?.terminate();
        this.helper = null;
        throw new Error(`cpu (wasm): the helper thread did not finish within ${Math.round(limit)} ms`);
      }
    }
  }

  /** Stops the helper and drops every tensor (they must not be used afterwards). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const ctrl = this.ctrl;
    if (this.helper && ctrl) {
      Atomics.store(ctrl, CTRL_FN, -1);
      Atomics.store(ctrl, CTRL_JOB, (this.seq + 1) | 0);
      Atomics.notify(ctrl, CTRL_JOB);
      this.helper.terminate();
    }
    this.helper = null;
    this.blocks.clear();
  }
}

// ---- shared runtimes ---------------------------------------------------------------------------------------------

const pending = new Map<1 | 2, Promise<WasmRuntime>>();

/** The realm's runtime for a thread count, created on first use; pair with releaseRuntime(). */
export async function acquireRuntime(threads: 1 | 2): Promise<WasmRuntime> {
  let p = pending.get(threads);
  if (!p) {
    p = WasmRuntime.create(threads);
    pending.set(threads, p);
    p.catch(() => pending.delete(threads));
  }
  const rt = await p;
  if (rt.isClosed) {
    if (pending.get(threads) === p) pending.delete(threads);
    return acquireRuntime(threads);
  }
  rt.refs++;
  return rt;
}

/** Drops one reference; the last one closes the runtime (its helper thread stops, its memory is let go). */
export function releaseRuntime(rt: WasmRuntime, threads: 1 | 2): void {
  if (rt.refs <= 0) return;
  rt.refs--;
  if (rt.refs > 0) return;
  rt.close();
  const p = pending.get(threads);
  // A closed runtime is never handed out again (acquireRuntime checks), so forgetting it can wait for the promise.
  if (p) void p.then((cur) => {
    if (cur === rt && pending.get(threads) === p) pending.delete(threads);
  });
}
