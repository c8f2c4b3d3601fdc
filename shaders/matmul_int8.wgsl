// out = a [M, K] x dequant(W) [K, N], any M (the small-M decode path is matmul_int8_gemv.wgsl). W is int8,
// stored transposed and packed: q is u32 [N, ceil(K/4)], word w of row n holds W[4w .. 4w+3, n] as
// two's-complement bytes, lowest byte first; dequant(W)[k, n] = q8[n, k] * scales[n].
// TILE x TILE workgroup-memory tiles: the a tile is loaded as f32, the weight tile is loaded as packed words
// (TILE * TILE / 4 of them, one per invocation for the first quarter of the workgroup) and unpacked with shifts
// into f32 in workgroup memory. Each invocation computes one output; the scale is applied once at the end.
// Output tiles are numbered row-major and walked grid-stride (workgroup w: tiles w, w + G, ...).
override TILE: u32 = 16; // multiple of 4, TILE * TILE <= 256

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
struct Params { m: u32, k: u32, n: u32, words: u32, tilesN: u32, tiles: u32 }
@group(0) @binding(4) var<uniform> p: Params;

// As[r * TILE + kk] = a[m0 + r, k0 + kk]; Ws[kk * TILE + c] = q8[n0 + c, k0 + kk].
var<workgroup> As: array<f32, TILE * TILE>;
var<workgroup> Ws: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) t: u32,
) {
  let tx = lid.x;
  let ty = lid.y;
  let wpt = TILE / 4u; // packed words per tile row
  for (var outTile = wid.x; outTile < p.tiles; outTile += nwg.x) {
    let m0 = (outTile / p.tilesN) * TILE;
    let n0 = (outTile % p.tilesN) * TILE;
    var acc = 0.0;
    let kTiles = (p.k + TILE - 1u) / TILE;
    for (var kt = 0u; kt < kTiles; kt++) {
      let k0 = kt * TILE;
      let r = m0 + ty;
      let kk = k0 + tx;
      var av = 0.0;
      if (r < p.m && kk < p.k) { av = a[r * p.k + kk]; }
      As[ty * TILE + tx] = av;
      if (t < TILE * wpt) {
        let c = t / wpt;
        let w = t % wpt;
        let gn = n0 + c;
        let gw = k0 / 4u + w;
        var word = 0u;
        if (gn < p.n && gw < p.words) { word = q[gn * p.words + gw]; }
        let i = bitcast<i32>(word);
        let kb = 4u * w;
        // Bytes past K (padding of the last word) become zeros.
        Ws[(kb + 0u) * TILE + c] = select(0.0, f32((i << 24u) >> 24u), k0 + kb + 0u < p.k);
        Ws[(kb + 1u) * TILE + c] = select(0.0, f32((i << 16u) >> 24u), k0 + kb + 1u < p.k);
        Ws[(kb + 2u) * TILE + c] = select(0.0, f32((i << 8u) >> 24u), k0 + kb + 2u < p.k);
        Ws[(kb + 3u) * TILE + c] = select(0.0, f32(i >> 24u), k0 + kb + 3u < p.k);
      }
      workgroupBarrier();
      for (var j = 0u; j < TILE; j++) {
        acc += As[ty * TILE + j] * Ws[j * TILE + tx];
      }
      workgroupBarrier();
    }
    let row = m0 + ty;
    let col = n0 + tx;
    if (row < p.m && col < p.n) { out[row * p.n + col] = acc * scales[col]; }
  }
}
