// LayerNorm parameter gradients, one thread per column looping over the rows in order (deterministic, no atomics):
//   dgamma[j] = sum_i dy[i, j] * xhat[i, j],  dbeta[j] = sum_i dy[i, j],  xhat = (x - mean[i]) * rstd[i].
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> meanIn: array<f32>;
@group(0) @binding(3) var<storage, read> rstdIn: array<f32>;
@group(0) @binding(4) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbeta: array<f32>;
struct Params { rows: u32, n: u32, rowStride: u32 }
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || j >= p.n) { return; }
  var dg = 0.0;
  var db = 0.0;
  for (var i = 0u; i < p.rows; i++) {
    let k = i * p.n + j;
    let d = dy[k];
    dg += d * (x[k] - meanIn[i]) * rstdIn[i];
    db += d;
  }
  dgamma[j] = dg;
  dbeta[j] = db;
}
