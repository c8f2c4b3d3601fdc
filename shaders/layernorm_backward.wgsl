// LayerNorm input gradient, one workgroup per row. With xhat = (x - mean) * rstd and g = dy * gamma:
//   dx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat))
// (dgamma / dbeta come from layernorm_param_grad.wgsl.)
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> meanIn: array<f32>;
@group(0) @binding(4) var<storage, read> rstdIn: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
struct Params { rows: u32, n: u32, gx: u32 }
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> red: array<vec2<f32>, WG>;

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
    let mean = meanIn[row];
    let rstd = rstdIn[row];

    var acc = vec2<f32>(0.0, 0.0);
    for (var j = lid; j < p.n; j += WG) {
      let g = dy[base + j] * gamma[j];
      let xhat = (x[base + j] - mean) * rstd;
      acc += vec2<f32>(g, g * xhat);
    }
    red[lid] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
      if (lid < stride) { red[lid] += red[lid + stride]; }
      workgroupBarrier();
    }
    let m = red[0] / f32(p.n);

    for (var j = lid; j < p.n; j += WG) {
      let g = dy[base + j] * gamma[j];
      let xhat = (x[base + j] - mean) * rstd;
      dx[base + j] = rstd * (g - m.x - xhat * m.y);
    }
    workgroupBarrier();
  }
}
