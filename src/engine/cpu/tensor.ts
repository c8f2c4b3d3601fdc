// The CPU backend's tensor: a dense row-major typed array plus its shape.
import { ShapeError } from '../errors.ts';
import { expectAlive, fmt, sizeOf } from '../shapes.ts';
import type { AnyTypedArray, DType, Tensor } from '../types.ts';

export class CpuTensor implements Tensor {
  readonly backend = 'cpu' as const;
  readonly shape: readonly number[];
  readonly size: number;
  private _data: AnyTypedArray;
  private _disposed = false;

  constructor(data: AnyTypedArray, shape: readonly number[], readonly dtype: DType) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    if (data.length !== this.size) throw new ShapeError(`tensor: data has ${data.length} elements, shape ${fmt(shape)} needs ${this.size}`);
    this._data = data;
  }

  get disposed(): boolean {
    return this._disposed;
  }

  /** The live backing array (not a copy). */
  get data(): AnyTypedArray {
    if (this._disposed) throw new ShapeError(`tensor ${fmt(this.shape)} was already disposed`);
    return this._data;
  }

  dispose(): void {
    this._disposed = true;
    this._data = new Float32Array(0);
  }
}

export function newArray(dtype: DType, n: number): AnyTypedArray {
  return dtype === 'f32' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint32Array(n);
}

function asCpu(op: string, t: Tensor): CpuTensor {
  if (!(t instanceof CpuTensor)) throw new ShapeError(`${op}: tensor ${fmt(t.shape)} belongs to the ${t.backend} backend, not cpu`);
  expectAlive(op, t);
  return t;
}

/** Backing array of an f32 tensor (call after the op's shape checks). */
export function f32(op: string, t: Tensor): Float32Array {
  const d = asCpu(op, t).data;
  if (!(d instanceof Float32Array)) throw new ShapeError(`${op}: tensor ${fmt(t.shape)} must be f32, got ${t.dtype}`);
  return d;
}

export function i32(op: string, t: Tensor): Int32Array {
  const d = asCpu(op, t).data;
  if (!(d instanceof Int32Array)) throw new ShapeError(`${op}: tensor ${fmt(t.shape)} must be i32, got ${t.dtype}`);
  return d;
}

export function u32(op: string, t: Tensor): Uint32Array {
  const d = asCpu(op, t).data;
  if (!(d instanceof Uint32Array)) throw new ShapeError(`${op}: tensor ${fmt(t.shape)} must be u32, got ${t.dtype}`);
  return d;
}

export function anyData(op: string, t: Tensor): AnyTypedArray {
  return asCpu(op, t).data;
}

/** A fresh f32 tensor owning `data`. */
export function f32Tensor(data: Float32Array, shape: readonly number[]): CpuTensor {
  return new CpuTensor(data, shape, 'f32');
}
