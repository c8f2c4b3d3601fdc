// Unfused log-softmax, kernel 1 of 3: rowmax[r] = max_c x[r, c]. One workgroup per row.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> rowmax: array<f32>;
struct Params { rows: u32, vocab: u32, gx: u32 }
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * p.gx + wid.x;
  if (row >= p.rows) { return; }
  let base = row * p.vocab;
  var m = -3.4028234e38;
  for (var c = lid; c < p.vocab; c += WG) { m = max(m, x[base + c]); }
  red[lid] = m;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { red[lid] = max(red[lid], red[lid + stride]); }
    workgroupBarrier();
  }
  if (lid == 0u) { rowmax[row] = red[0]; }
}
