// out = a [M, K] x dequant(W) [K, N] for M <= 8 rows (decode). W is int8, stored transposed and packed:
// q is u32 [N, ceil(K/4)], word w of row n holds W[4w .. 4w+3, n] as two's-complement bytes, lowest byte
// first; dequant(W)[k, n] = q8[n, k] * scales[n]. A workgroup owns a block of COLS output channels; the
// T = 256 / COLS adjacent invocations of one channel walk its packed row together (contiguous reads, 4
// weights per u32), keep one partial sum per row of a, and the first of them adds the T partials from
// workgroup memory in a fixed order. The scale is applied once per output. Bytes past K in the last word are
// ignored (never multiplied). Bytes are unpacked with shifts (portable; unpack4xI8 needs the
// packed_4x8_integer_dot_product language feature). Channel blocks are walked grid-stride.
override COLS: u32 = 8; // power of two dividing 256

const WG: u32 = 256;
const MAX_ROWS: u32 = 8;
override T: u32 = WG / COLS; // invocations per channel (derived; do not set)

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
struct Params { m: u32, k: u32, n: u32, words: u32 }
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> red: array<f32, MAX_ROWS * WG>;

fn unpack(word: u32) -> vec4<f32> {
  let i = bitcast<i32>(word);
  return vec4<f32>(f32((i << 24u) >> 24u), f32((i << 16u) >> 24u), f32((i << 8u) >> 24u), f32(i >> 24u));
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) t: u32,
) {
  let c = t / T;
  let s = t % T;
  let slot = c * T + s;
  let fullWords = p.k / 4u;
  let blocks = (p.n + COLS - 1u) / COLS;
  for (var block = wid.x; block < blocks; block += nwg.x) {
    let col = block * COLS + c;
    var acc: array<f32, MAX_ROWS>;
    for (var r = 0u; r < MAX_ROWS; r++) { acc[r] = 0.0; } // explicit: not every compiler re-zeroes it per iteration
    if (col < p.n) {
      for (var w = s; w < p.words; w += T) {
        let wv = unpack(q[col * p.words + w]);
        let k0 = 4u * w;
        if (w < fullWords) {
          for (var r = 0u; r < MAX_ROWS; r++) {
            if (r >= p.m) { break; }
            let o = r * p.k + k0;
            acc[r] += dot(vec4<f32>(a[o], a[o + 1u], a[o + 2u], a[o + 3u]), wv);
          }
        } else {
          // The last, partial word: only K % 4 of its bytes are weights.
          for (var r = 0u; r < MAX_ROWS; r++) {
            if (r >= p.m) { break; }
            let o = r * p.k + k0;
            var sum = 0.0;
            for (var j = 0u; k0 + j < p.k; j++) { sum += a[o + j] * wv[j]; }
            acc[r] += sum;
          }
        }
      }
    }
    for (var r = 0u; r < MAX_ROWS; r++) {
      if (r >= p.m) { break; }
      red[r * WG + slot] = acc[r];
    }
    workgroupBarrier();
    if (s == 0u && col < p.n) {
      let sc = scales[col];
      for (var r = 0u; r < MAX_ROWS; r++) {
        if (r >= p.m) { break; }
        var sum = 0.0;
        for (var j = 0u; j < T; j++) { sum += red[r * WG + slot + j]; }
        out[r * p.n + col] = sum * sc;
      }
    }
    workgroupBarrier(); // red is rewritten by the next block
  }
}
