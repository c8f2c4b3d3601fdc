// out = op(a) [M, K] x op(b) [K, N] with TILE x TILE workgroup-memory tiles: each invocation computes one output
// and each input element is loaded from global memory once per tile. Any shape (edges are zero-padded in the
// tiles). op(a) = a^T when TRANS_A != 0 (a stored [K, M]); op(b) = b^T when TRANS_B != 0 (b stored [N, K]).
// Loads are mapped so that consecutive invocations read consecutive addresses in every transposition case.
// Output tiles are numbered row-major (tile = tileRow * tilesN + tileCol) and walked grid-stride: workgroup w
// computes tiles w, w + G, w + 2G, ... (G = number of workgroups), so any number of tiles fits one dispatch.
override TILE: u32 = 16; // TILE * TILE <= 256 invocations
override TRANS_A: u32 = 0;
override TRANS_B: u32 = 0;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { m: u32, k: u32, n: u32, tilesN: u32, tiles: u32 }
@group(0) @binding(3) var<uniform> p: Params;

// As[r * TILE + q] = op(a)[m0 + r, k0 + q]; Bs[q * TILE + c] = op(b)[k0 + q, n0 + c].
var<workgroup> As: array<f32, TILE * TILE>;
var<workgroup> Bs: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let tx = lid.x;
  let ty = lid.y;
  let kTiles = (p.k + TILE - 1u) / TILE;
  for (var tile = wid.x; tile < p.tiles; tile += nwg.x) {
    let m0 = (tile / p.tilesN) * TILE;
    let n0 = (tile % p.tilesN) * TILE;
    var acc = 0.0;
    for (var kt = 0u; kt < kTiles; kt++) {
      let k0 = kt * TILE;
      // A tile: the fast thread index walks the contiguous dimension of the stored array.
      if (TRANS_A == 0u) {
        let r = m0 + ty;
        let q = k0 + tx;
        var v = 0.0;
        if (r < p.m && q < p.k) { v = a[r * p.k + q]; }
        As[ty * TILE + tx] = v;
      } else {
        let q = k0 + ty;
        let r = m0 + tx;
        var v = 0.0;
        if (r < p.m && q < p.k) { v = a[q * p.m + r]; }
        As[tx * TILE + ty] = v;
      }
      if (TRANS_B == 0u) {
        let q = k0 + ty;
        let c = n0 + tx;
        var v = 0.0;
        if (q < p.k && c < p.n) { v = b[q * p.n + c]; }
        Bs[ty * TILE + tx] = v;
      } else {
        let c = n0 + ty;
        let q = k0 + tx;
        var v = 0.0;
        if (q < p.k && c < p.n) { v = b[c * p.k + q]; }
        Bs[tx * TILE + ty] = v;
      }
      workgroupBarrier();
      for (var q = 0u; q < TILE; q++) {
        acc += As[ty * TILE + q] * Bs[q * TILE + tx];
      }
      workgroupBarrier();
    }
    let row = m0 + ty;
    let col = n0 + tx;
    if (row < p.m && col < p.n) { out[row * p.n + col] = acc; }
  }
}
