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

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this.rt.untrack(this);
    this.rt.release(this._ptr, this.bytes);
    this._ptr = 0;
  }
}
