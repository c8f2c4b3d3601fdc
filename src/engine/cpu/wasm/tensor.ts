// A tensor of the fast cpu backend: a block of the runtime's WebAssembly memory plus its shape. The block goes back
// to the allocator on dispose(), or when the tensor is garbage-collected without one.
import { ShapeError } from '../../errors.ts';
import { fmt, sizeOf } from '../../shapes.ts';
import type { AnyTypedArray, DType, Tensor } from '../../types.ts';
import type { WasmRuntime } from './runtime.ts';

export class WasmTensor implements Tensor {
  readonly backend = 'cpu' as const;
  readonly shape: readonly number[];
  readonly size: number;
  readonly bytes: number;
  private _ptr: number;
  private _disposed = false;
  /**
   * For the q tensor of an Int8Weight: its bytes re-laid out for the int8 kernel (assembly/int8.ts, int8Pack), made
   * on first use and kept until the tensor is disposed or written (dropDerived).
   */
  private _packed: { ptr: number; bytes: number; k: number; n: number } | null = null;
  /** Its exact f32 [k, n] copy, for many-row products through the fp32 gemm (int8Dense). */
  private _dense: { ptr: number; bytes: number; k: number; n: number } | null = null;

  /** A fresh, uninitialized tensor. */
  constructor(
    readonly rt: WasmRuntime,
    shape: readonly number[],
    readonly dtype: DType,
  ) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.bytes = this.size * 4;
    this._ptr = rt.alloc(this.bytes);
    rt.track(this, this._ptr, this.bytes);
  }

  get disposed(): boolean {
    return this._disposed;
  }

  /** Byte address of the first element. */
  get ptr(): number {
    if (this._disposed) throw new ShapeError(`tensor ${fmt(this.shape)} was already disposed`);
    return this._ptr;
  }

  /** A live view of the data (not a copy); stale after the next allocation on the runtime. */
  view(): AnyTypedArray {
    return this.rt.view(this.dtype, this.ptr, this.size);
  }

  /** The int8-panel copy of this packed-q tensor for a [k, n] weight (built by `make` when absent or stale). */
  int8Panels(k: number, n: number, make: (bytes: number) => number): number {
    const p = this._packed;
    if (p && p.k === k && p.n === n) return p.ptr;
    if (p) this.dropDerived();
    const bytes = this.rt.k.int8PackedBytes(k, n);
    const ptr = make(bytes);
    this._packed = { ptr, bytes, k, n };
    this.rt.track(this, ptr, bytes);
    return ptr;
  }

  /** The exact f32 [k, n] copy of this packed-q tensor's weight (built by `make` when absent or stale). */
  int8Dense(k: number, n: number, make: (bytes: number) => number): number {
    const p = this._dense;
    if (p && p.k === k && p.n === n) return p.ptr;
    if (p) this.dropDerived();
    const bytes = k * n * 4;
    const ptr = make(bytes);
    this._dense = { ptr, bytes, k, n };
    this.rt.track(this, ptr, bytes);
    return ptr;
  }

  /** Forgets data derived from the contents (call before the contents change). */
  dropDerived(): void {
    const p = this._packed;
    const d = this._dense;
    if (!p && !d) return;
    this._packed = null;
    this._dense = null;
    // untrack drops every registration of this tensor: register its own block again.
    this.rt.untrack(this);
    this.rt.track(this, this._ptr, this.bytes);
    if (p) this.rt.release(p.ptr, p.bytes);
    if (d) this.rt.release(d.ptr, d.bytes);
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this.rt.untrack(this);
    this.rt.release(this._ptr, this.bytes);
    if (this._packed) this.rt.release(this._packed.ptr, this._packed.bytes);
    if (this._dense) this.rt.release(this._dense.ptr, this._dense.bytes);
    this._packed = null;
    this._dense = null;
    this._ptr = 0;
  }
}
