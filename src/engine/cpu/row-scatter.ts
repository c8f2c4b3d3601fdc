// An optional op of the cpu backends, outside the Ops interface: scatter the rows of a matrix to given rows of
// another (dst[rows[i], :] = src[i, :]). The KV-cache decoder writes a step's new K/V rows of every sequence into
// the caches with one call per layer instead of a gather + copy per sequence (src/model/decoder-cache.ts); backends
// without it (webgpu) keep the per-sequence copies.
import { ShapeError } from '../errors.ts';
import { expectAlive, expectRank, fmt } from '../shapes.ts';
import type { Ops, Tensor } from '../types.ts';

export interface RowScatter {
  /** dst [R, C], src [n, C] of the same dtype, rows: n distinct-or-not indices in [0, R) (later rows win). */
  scatterRows(dst: Tensor, rows: Int32Array, src: Tensor): void;
}

/** The backend's scatterRows, or null when it has none. */
export function rowScatter(ops: Ops): RowScatter['scatterRows'] | null {
  const f = (ops as Ops & Partial<RowScatter>).scatterRows;
  return typeof f === 'function' ? f.bind(ops) : null;
}

/** Shape checks of scatterRows; returns [dst rows, columns]. */
export function checkScatterRows(dst: Tensor, rows: Int32Array, src: Tensor): [number, number] {
  const op = 'scatterRows';
  expectAlive(op, dst, src);
  expectRank(op, 'dst', dst, 2);
  expectRank(op, 'src', src, 2);
  if (dst.dtype !== src.dtype) throw new ShapeError(`${op}: dst is ${dst.dtype}, src is ${src.dtype}`);
  if (dst.shape[1] !== src.shape[1]) throw new ShapeError(`${op}: dst ${fmt(dst.shape)} and src ${fmt(src.shape)} differ in columns`);
  if (rows.length !== src.shape[0]) throw new ShapeError(`${op}: ${rows.length} row indices for src ${fmt(src.shape)}`);
  const R = dst.shape[0];
  for (let i = 0; i < rows.length; i++)
    if (!(Number.isInteger(rows[i]) && rows[i] >= 0 && rows[i] < R)) throw new ShapeError(`${op}: row ${rows[i]} is outside dst ${fmt(dst.shape)}`);
  return [R, dst.shape[1]];
}
