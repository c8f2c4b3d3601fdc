// out[r] = x[r, idx[r]] for x [rows, cols]; NaN when idx[r] is out of range. One thread per row.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { rows: u32, rowStride: u32, cols: u32 }
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || r >= p.rows) { return; }
  let t = idx[r];
  if (t >= 0 && u32(t) < p.cols) {
    out[r] = x[r * p.cols + u32(t)];
  } else {
    out[r] = bitcast<f32>(0x7fc00000u | (p.cols & 1u)); // NaN, built at run time
  }
}
