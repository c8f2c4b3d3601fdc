// AdamW, in place, one invocation per parameter:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   p -= lr (mhat / (sqrt(vhat) + eps) + wd p),  mhat = m / c1, vhat = v / c2,
// with the bias corrections c1 = 1 - b1^step, c2 = 1 - b2^step (and 1 - b1, 1 - b2) computed on the host in
// double precision. The 1-D launch may be folded into 2-D (rowStride = gx * WG).
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
struct Params {
  n: u32, rowStride: u32, lr: f32, beta1: f32,
  oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32,
  weightDecay: f32, c1: f32, c2: f32,
}
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || i >= p.n) { return; }
  let g = grad[i];
  let mi = p.beta1 * m[i] + p.oneMinusBeta1 * g;
  let vi = p.beta2 * v[i] + p.oneMinusBeta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  let w = param[i];
  param[i] = w - p.lr * ((mi / p.c1) / (sqrt(vi / p.c2) + p.eps) + p.weightDecay * w);
}
