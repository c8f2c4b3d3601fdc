// Input gradient of row-wise L2 normalization (l2normalize.wgsl), one workgroup per row (grid-stride over rows):
//   norm >= eps: dx = (dy - y * (y . dy)) / norm      norm < eps (clamped, y = x / eps): dx = dy / eps.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> normIn: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
struct Params { rows: u32, n: u32, gx: u32, eps: f32 }
@group(0) @binding(4) var<uniform> p: Params;

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
  for (var row = wid.y * p.gx + wid.x; row < p.rows; row += nwg.x * nwg.y) {
    let base = row * p.n;
    var s = 0.0;
    for (var j = lid; j < p.n; j += WG) { s += y[base + j] * dy[base + j]; }
    // Reduced on every row (barriers stay in uniform control flow); unused on clamped rows.
    let yd = reduceSum(lid, s);
    let nr = normIn[row];
    let clamped = nr < p.eps;
    for (var j = lid; j < p.n; j += WG) {
      let g = dy[base + j];
      dx[base + j] = select((g - y[base + j] * yd) / nr, g / p.eps, clamped);
    }
  }
}
