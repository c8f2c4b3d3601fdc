// out[i, d] = table[ids[i], d]; an id outside [0, vocab) gives a row of zeros (never an out-of-bounds read).
// One invocation per output element; the 1-D launch may be folded into 2-D (rowStride = gx * WG).
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { total: u32, rowStride: u32, vocab: u32, dim: u32 }
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || e >= p.total) { return; }
  let i = e / p.dim;
  let d = e % p.dim;
  let id = ids[i];
  var v = 0.0;
  if (id >= 0 && u32(id) < p.vocab) { v = table[u32(id) * p.dim + d]; }
  out[e] = v;
}
