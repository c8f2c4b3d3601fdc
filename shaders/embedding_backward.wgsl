// dTable[v, d] = sum over positions i with ids[i] == v of dOut[i, d], without atomics: the host groups the
// token positions by id (CSR: rowStart [vocab + 1], positions [n], increasing position order within an id) and
// one invocation per (v, d) adds its rows in that order, so the result is deterministic. Rows of ids that do
// not occur are zero. The 1-D launch may be folded into 2-D (rowStride = gx * WG).
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> dOut: array<f32>;
@group(0) @binding(1) var<storage, read> rowStart: array<u32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read_write> dTable: array<f32>;
struct Params { total: u32, rowStride: u32, dim: u32 }
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || e >= p.total) { return; }
  let v = e / p.dim;
  let d = e % p.dim;
  var acc = 0.0;
  for (var j = rowStart[v]; j < rowStart[v + 1u]; j++) {
    acc += dOut[positions[j] * p.dim + d];
  }
  dTable[e] = acc;
}
