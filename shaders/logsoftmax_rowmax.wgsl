// Unfused log-softmax, kernel 1 of 3: rowmax[r] = max_c x[r, c]. One workgroup per row.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> rowmax: array<f32>;
struct Params { rows: u32, vocab: u32, gx: u32 }
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Grid-stride over rows: one row per workgroup on hardware GPUs; on software adapters a few workgroups
  // walk many rows (each workgroup with barriers has a high fixed cost there). The barrier at the end keeps
  // the next row from overwriting workgroup memory that a slower thread still reads.
  for (var row = wid.y * p.gx + wid.x; row < p.rows; row += nwg.x * nwg.y) {
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
    workgroupBarrier();
  }
}
