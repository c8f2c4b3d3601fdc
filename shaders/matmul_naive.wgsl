// out[i, j] = sum_p op(a)[i, p] * op(b)[p, j]: one invocation per output element, no data reuse.
// The benchmark anchor for the other matmul variants. op(a) = a^T when TRANS_A != 0 (a stored [K, M]);
// op(b) = b^T when TRANS_B != 0 (b stored [N, K]). Any shape.
override WX: u32 = 16;
override WY: u32 = 16;
override TRANS_A: u32 = 0;
override TRANS_B: u32 = 0;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { m: u32, k: u32, n: u32 }
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let i = gid.y;
  if (i >= p.m || j >= p.n) { return; }
  // Element strides of op(a)[i, q] and op(b)[q, j] along q.
  var aBase = i * p.k;
  var aStep = 1u;
  if (TRANS_A != 0u) { aBase = i; aStep = p.m; }
  var bBase = j;
  var bStep = p.n;
  if (TRANS_B != 0u) { bBase = j * p.k; bStep = 1u; }
  var acc = 0.0;
  for (var q = 0u; q < p.k; q++) {
    acc += a[aBase + q * aStep] * b[bBase + q * bStep];
  }
  out[i * p.n + j] = acc;
}
