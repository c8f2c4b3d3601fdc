// LayerNorm over the last dimension, one workgroup per row, two passes (mean, then centered variance):
//   y = (x - mean) * rstd * gamma + beta,  rstd = 1 / sqrt(var + eps),  var = mean((x - mean)^2) (biased, as PyTorch).
// mean and rstd are written for the backward pass.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> meanOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstdOut: array<f32>;
struct Params { rows: u32, n: u32, gx: u32, eps: f32 }
@group(0) @binding(6) var<uniform> p: Params;

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
  // Grid-stride over rows: one row per workgroup on hardware GPUs; on software adapters a few workgroups
  // walk many rows (each workgroup with barriers has a high fixed cost there). The barrier at the end keeps
  // the next row from overwriting workgroup memory that a slower thread still reads.
  for (var row = wid.y * p.gx + wid.x; row < p.rows; row += nwg.x * nwg.y) {
    let base = row * p.n;
    let nf = f32(p.n);

    var s = 0.0;
    for (var j = lid; j < p.n; j += WG) { s += x[base + j]; }
    let mean = reduceSum(lid, s) / nf;

    var v = 0.0;
    for (var j = lid; j < p.n; j += WG) {
      let d = x[base + j] - mean;
      v += d * d;
    }
    let rstd = 1.0 / sqrt(reduceSum(lid, v) / nf + p.eps);

    for (var j = lid; j < p.n; j += WG) {
      y[base + j] = (x[base + j] - mean) * rstd * gamma[j] + beta[j];
    }
    if (lid == 0u) {
      meanOut[row] = mean;
      rstdOut[row] = rstd;
    }
    workgroupBarrier();
  }
}
