// One pass of deterministic column sums of x [M, N]: block (chunk, cb) owns the COLS columns of column block
// cb and the rows [chunk * chunkRows, (chunk + 1) * chunkRows), and writes partial[chunk, col] (a [chunks, N]
// array). Within a block, adjacent invocations own adjacent columns (coalesced reads); the RS = 256 / COLS
// invocations of a column add every RS-th row of the chunk in increasing order and are combined by a
// fixed-order tree in workgroup memory. The host repeats the pass on the partials until one row is left.
// Blocks (numbered chunk * colBlocks + cb) are walked grid-stride: workgroup w handles w, w + G, w + 2G, ...
override COLS: u32 = 64; // power of two dividing 256

const WG: u32 = 256;
override RS: u32 = WG / COLS; // row slices per column (derived; do not set)

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partial: array<f32>;
struct Params { m: u32, n: u32, chunkRows: u32, colBlocks: u32, blocks: u32 }
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) t: u32,
) {
  let c = t % COLS;
  let s = t / COLS;
  for (var block = wid.x; block < p.blocks; block += nwg.x) {
    let chunk = block / p.colBlocks;
    let col = (block % p.colBlocks) * COLS + c;
    let r0 = chunk * p.chunkRows;
    let r1 = min(p.m, r0 + p.chunkRows);
    var acc = 0.0;
    if (col < p.n) {
      for (var r = r0 + s; r < r1; r += RS) { acc += x[r * p.n + col]; }
    }
    red[t] = acc;
    for (var stride = RS / 2u; stride > 0u; stride /= 2u) {
      workgroupBarrier();
      if (s < stride) { red[t] += red[t + stride * COLS]; }
    }
    if (s == 0u && col < p.n) { partial[chunk * p.n + col] = red[t]; }
    workgroupBarrier(); // red is rewritten by the next block
  }
}
