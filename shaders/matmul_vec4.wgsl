// Register-blocked matmul: out = op(a) [M, K] x op(b) [K, N]. A 16 x 16 workgroup computes a 64 x 64 output
// block; each invocation keeps a 4 x 4 block of outputs in registers (four vec4 accumulators) and, per step along
// K, reads one vec4 of op(a) and one vec4 of op(b) from workgroup memory for 16 multiply-adds.
// Global loads are vec4: `a` and `b` are bound as array<vec4<f32>>, so the host only launches this kernel when
// the contiguous dimension of each stored input is a multiple of 4 (a: K, or M when TRANS_A; b: N, or K when
// TRANS_B). M, N and K need not be multiples of the 64 x 64 x BK tile: edge tiles are zero-padded and the output
// (bound as array<f32>, so N is free) is written with per-element bounds checks.
// Output blocks are numbered row-major (block = blockRow * blocksN + blockCol) and walked grid-stride:
// workgroup w computes blocks w, w + G, w + 2G, ... (G = number of workgroups).
override BK: u32 = 16; // K-step per tile, a multiple of 16; workgroup memory = 2 * BK * 64 * 4 bytes
override TRANS_A: u32 = 0;
override TRANS_B: u32 = 0;

const TM: u32 = 64; // output rows per workgroup (16 invocations x 4)
const TN: u32 = 64; // output columns per workgroup (16 invocations x 4)

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { m: u32, k: u32, n: u32, blocksN: u32, blocks: u32 }
@group(0) @binding(3) var<uniform> p: Params;

// As[q * 16 + i4] = op(a)[m0 + 4 i4 .. m0 + 4 i4 + 3, k0 + q]; Bs[q * 16 + j4] = op(b)[k0 + q, n0 + 4 j4 .. + 3].
var<workgroup> As: array<vec4<f32>, BK * 16>;
var<workgroup> Bs: array<vec4<f32>, BK * 16>;

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) t: u32,
) {
  let tx = lid.x;
  let ty = lid.y;
  for (var block = wid.x; block < p.blocks; block += nwg.x) {
    computeBlock((block / p.blocksN) * TM, (block % p.blocksN) * TN, tx, ty, t);
  }
}

fn computeBlock(m0: u32, n0: u32, tx: u32, ty: u32, t: u32) {
  let k4 = p.k / 4u;
  let m4 = p.m / 4u;
  let n4 = p.n / 4u;
  let kv = BK / 4u; // vec4s per tile row along K
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let tiles = (p.k + BK - 1u) / BK;
  for (var tile = 0u; tile < tiles; tile++) {
    let k0 = tile * BK;
    for (var l = 0u; l < BK / 16u; l++) {
      let idx = t + 256u * l;
      // ---- op(a) tile: 64 rows x BK ----
      if (TRANS_A == 0u) {
        // a stored [M, K]: vec4 along k; transpose into As while storing.
        let r = idx / kv;
        let c = idx % kv;
        let gm = m0 + r;
        let gk4 = k0 / 4u + c;
        var v = vec4<f32>(0.0);
        if (gm < p.m && gk4 < k4) { v = a[gm * k4 + gk4]; }
        let base = 4u * c * 16u + r / 4u;
        let comp = r % 4u;
        As[base][comp] = v.x;
        As[base + 16u][comp] = v.y;
        As[base + 32u][comp] = v.z;
        As[base + 48u][comp] = v.w;
      } else {
        // a stored [K, M]: vec4 along m, already in As layout.
        let q = idx / 16u;
        let i4 = idx % 16u;
        let gk = k0 + q;
        let gm4 = m0 / 4u + i4;
        var v = vec4<f32>(0.0);
        if (gk < p.k && gm4 < m4) { v = a[gk * m4 + gm4]; }
        As[q * 16u + i4] = v;
      }
      // ---- op(b) tile: BK x 64 columns ----
      if (TRANS_B == 0u) {
        // b stored [K, N]: vec4 along n, already in Bs layout.
        let q = idx / 16u;
        let j4 = idx % 16u;
        let gk = k0 + q;
        let gn4 = n0 / 4u + j4;
        var v = vec4<f32>(0.0);
        if (gk < p.k && gn4 < n4) { v = b[gk * n4 + gn4]; }
        Bs[q * 16u + j4] = v;
      } else {
        // b stored [N, K]: vec4 along k; transpose into Bs while storing.
        let r = idx / kv;
        let c = idx % kv;
        let gn = n0 + r;
        let gk4 = k0 / 4u + c;
        var v = vec4<f32>(0.0);
        if (gn < p.n && gk4 < k4) { v = b[gn * k4 + gk4]; }
        let base = 4u * c * 16u + r / 4u;
        let comp = r % 4u;
        Bs[base][comp] = v.x;
        Bs[base + 16u][comp] = v.y;
        Bs[base + 32u][comp] = v.z;
        Bs[base + 48u][comp] = v.w;
      }
    }
    workgroupBarrier();
    for (var q = 0u; q < BK; q++) {
      let av = As[q * 16u + ty];
      let bv = Bs[q * 16u + tx];
      acc0 += av.x * bv;
      acc1 += av.y * bv;
      acc2 += av.z * bv;
      acc3 += av.w * bv;
    }
    workgroupBarrier();
  }
  let row = m0 + 4u * ty;
  let col = n0 + 4u * tx;
  store(row, col, acc0);
  store(row + 1u, col, acc1);
  store(row + 2u, col, acc2);
  store(row + 3u, col, acc3);
}

fn store(row: u32, col: u32, v: vec4<f32>) {
  if (row >= p.m) { return; }
  let o = row * p.n + col;
  if (col < p.n) { out[o] = v.x; }
  if (col + 1u < p.n) { out[o + 1u] = v.y; }
  if (col + 2u < p.n) { out[o + 2u] = v.z; }
  if (col + 3u < p.n) { out[o + 3u] = v.w; }
}
