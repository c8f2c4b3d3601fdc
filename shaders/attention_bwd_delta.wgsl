// Attention backward, step 1: D[b, h, i] = dO_i . O_i over the head's columns. One thread per (b, h, i).
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> dOut: array<f32>;
@group(0) @binding(1) var<storage, read> o: array<f32>;
@group(0) @binding(2) var<storage, read_write> delta: array<f32>;
struct Params { rows: u32, rowStride: u32, tq: u32, tk: u32, heads: u32, hd: u32, scale: f32, causal: u32, hasLens: u32 }
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || r >= p.rows) { return; }
  let bh = r / p.tq;
  let i = r - bh * p.tq;
  let b = bh / p.heads;
  let h = bh - b * p.heads;
  let qo = (b * p.tq + i) * p.heads * p.hd + h * p.hd;
  var s = 0.0;
  for (var d = 0u; d < p.hd; d++) { s += dOut[qo + d] * o[qo + d]; }
  delta[r] = s;
}
