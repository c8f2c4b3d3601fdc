// Row-wise L2 normalization, one workgroup per row (grid-stride over rows):
//   norm = sqrt(sum_j x_j^2),  y = x / max(norm, eps).
// norm (unclamped) is written for the backward pass (l2normalize_backward.wgsl).
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> normOut: array<f32>;
struct Params { rows: u32, n: u32, gx: u32, eps: f32 }
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

/** Sum of red[0 .. WG) into red[0]; every thread gets the result. Ends with a barrier so red can be reused. */
fn reduceSum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { red[lid] += red[lid + stride]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Grid-stride over rows: one row per workgroup on hardware GPUs; on software adapters a few workgroups walk
  // many rows (see kernels/rowgrid.ts). reduceSum's closing barrier keeps the next row from overwriting `red`
  // while a slower thread still reads it.
  for (var row = wid.y * p.gx + wid.x; row < p.rows; row += nwg.x * nwg.y) {
    let base = row * p.n;
    var s = 0.0;
    for (var j = lid; j < p.n; j += WG) {
      let v = x[base + j];
      s += v * v;
    }
    let nr = sqrt(reduceSum(lid, s));
    let d = max(nr, p.eps);
    for (var j = lid; j < p.n; j += WG) { y[base + j] = x[base + j] / d; }
    if (lid == 0u) { normOut[row] = nr; }
  }
}
