// Unfused log-softmax, kernel 3 of 3: out[r, c] = (x[r, c] - rowmax[r]) - log(rowsum[r]), fully materialized.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> rowmax: array<f32>;
@group(0) @binding(2) var<storage, read> rowsum: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
struct Params { n: u32, rowStride: u32, vocab: u32 }
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || i >= p.n) { return; }
  let row = i / p.vocab;
  out[i] = (x[i] - rowmax[row]) - log(rowsum[row]);
}
