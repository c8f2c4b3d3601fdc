// out[i, j] = scales[j] * sum_p a[i, p] * q8[j, p]: one invocation per output, no workgroup memory, no barriers
// (the int8 path for software adapters, where barriers are expensive). q is u32 [n, words]: word w of row j
// packs W[4w..4w+3, j] as two's-complement bytes, lowest byte first; the padding bytes of the last word are
// never read. Any shape.
override WX: u32 = 16;
override WY: u32 = 16;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
struct Params { m: u32, k: u32, n: u32, words: u32 }
@group(0) @binding(4) var<uniform> p: Params;

fn byteAt(w: u32, b: u32) -> f32 {
  return f32(i32(w << (24u - 8u * b)) >> 24u);
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let i = gid.y;
  if (i >= p.m || j >= p.n) { return; }
  let aRow = i * p.k;
  let qRow = j * p.words;
  let full = p.k / 4u;
  var acc = 0.0;
  for (var w = 0u; w < full; w++) {
    let word = q[qRow + w];
    let x = vec4<f32>(a[aRow + 4u * w], a[aRow + 4u * w + 1u], a[aRow + 4u * w + 2u], a[aRow + 4u * w + 3u]);
    acc += dot(x, vec4<f32>(byteAt(word, 0u), byteAt(word, 1u), byteAt(word, 2u), byteAt(word, 3u)));
  }
  for (var c = full * 4u; c < p.k; c++) {
    acc += a[aRow + c] * byteAt(q[qRow + c / 4u], c % 4u);
  }
  out[i * p.n + j] = acc * scales[j];
}
