// The decode path: out = op(a) [M, K] x op(b) [K, N] for M <= 8 rows. A workgroup of 256 invocations
// owns a block of COLS output columns; the T = 256 / COLS invocations of one column split K between them (each
// keeps one partial sum per row in registers), then the first of them adds the T partials from workgroup
// memory in a fixed order, so results are deterministic. The thread layout follows the memory layout of b:
//   TRANS_B != 0 (b stored [N, K], e.g. logits = h x E^T): the T invocations of a column are adjacent and walk
//                 K together, so a column's reads are contiguous (use a small COLS, e.g. 8 -> T = 32);
//   TRANS_B == 0 (b stored [K, N]): adjacent invocations own adjacent columns, so each step along K reads a
//                 contiguous run of COLS values (use a large COLS, e.g. 64 -> T = 4).
// COLS must be a power of two dividing 256. op(a) = a^T when TRANS_A != 0 (a stored [K, M]). Row loops run
// to the constant MAX_ROWS with a uniform early exit, so they can unroll and keep the accumulators in
// registers without a pipeline per M. Column blocks are walked grid-stride: workgroup w computes blocks
// w, w + G, w + 2G, ... (G = number of workgroups).
override COLS: u32 = 8;
override TRANS_A: u32 = 0;
override TRANS_B: u32 = 1;

const WG: u32 = 256;
const MAX_ROWS: u32 = 8;
override T: u32 = WG / COLS; // invocations per column (derived; do not set)

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { m: u32, k: u32, n: u32 }
@group(0) @binding(3) var<uniform> p: Params;

// red[r * WG + c * T + s]: partial sum of row r, column c, K-slice s.
var<workgroup> red: array<f32, MAX_ROWS * WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) t: u32,
) {
  var c: u32;
  var s: u32;
  if (TRANS_B != 0u) { c = t / T; s = t % T; } else { c = t % COLS; s = t / COLS; }
  let slot = c * T + s;
  let blocks = (p.n + COLS - 1u) / COLS;
  for (var block = wid.x; block < blocks; block += nwg.x) {
    let col = block * COLS + c;
    var acc: array<f32, MAX_ROWS>;
    for (var r = 0u; r < MAX_ROWS; r++) { acc[r] = 0.0; } // explicit: not every compiler re-zeroes it per iteration
    if (col < p.n) {
      for (var q = s; q < p.k; q += T) {
        var bv: f32;
        if (TRANS_B != 0u) { bv = b[col * p.k + q]; } else { bv = b[q * p.n + col]; }
        for (var r = 0u; r < MAX_ROWS; r++) {
          if (r >= p.m) { break; }
          var av: f32;
          if (TRANS_A != 0u) { av = a[q * p.m + r]; } else { av = a[r * p.k + q]; }
          acc[r] += av * bv;
        }
      }
    }
    for (var r = 0u; r < MAX_ROWS; r++) {
      if (r >= p.m) { break; }
      red[r * WG + slot] = acc[r];
    }
    workgroupBarrier();
    if (s == 0u && col < p.n) {
      for (var r = 0u; r < MAX_ROWS; r++) {
        if (r >= p.m) { break; }
        var sum = 0.0;
        for (var j = 0u; j < T; j++) { sum += red[r * WG + slot + j]; }
        out[r * p.n + col] = sum;
      }
    }
    workgroupBarrier(); // red is rewritten by the next block
  }
}
