// Multi-head attention forward, flash style: one thread per (batch, head, query row). The thread streams the keys
// it sees once: keys j < n with n = min(i + tk - tq + 1, len_b) when causal, n = len_b otherwise (len_b = lens[b]
// when hasLens, else tk; padded keys are masked, padded query rows still attend to the valid keys), keeping an
// online softmax (running max m, running sum l) and the output accumulator in a private array, rescaled whenever
// m grows. Scores are never materialized.
// q: [batch*tq, heads*hd], k, v: [batch*tk, heads*hd]; out like q; lse [batch, heads, tq] = m + log(l).
override WG: u32 = 64;

/** Largest supported head dimension (private accumulator size). */
const MAXD: u32 = 128u;
const NEG_BIG: f32 = -3.4028234e38;

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
/** Valid keys per batch entry (read only when hasLens != 0; a 1-element placeholder otherwise). */
@group(0) @binding(5) var<storage, read> lens: array<i32>;
struct Params { rows: u32, rowStride: u32, tq: u32, tk: u32, heads: u32, hd: u32, scale: f32, causal: u32, hasLens: u32 }
@group(0) @binding(6) var<uniform> p: Params;

/** Valid keys of batch entry b: lens[b] when lengths were given, else tk. */
fn keyLen(b: u32) -> u32 {
  var n = p.tk;
  if (p.hasLens != 0u) { n = u32(lens[b]); }
  return n;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || r >= p.rows) { return; }
  let bh = r / p.tq;
  let i = r - bh * p.tq;
  let b = bh / p.heads;
  let h = bh - b * p.heads;
  let width = p.heads * p.hd;
  let hd = p.hd;
  let qo = (b * p.tq + i) * width + h * hd;

  var qv: array<f32, MAXD>;
  var acc: array<f32, MAXD>;
  for (var d = 0u; d < hd; d++) { qv[d] = q[qo + d]; }

  var m = NEG_BIG;
  var l = 0.0;
  let kl = keyLen(b);
  let n = select(kl, min(i + (p.tk - p.tq) + 1u, kl), p.causal != 0u);
  for (var j = 0u; j < n; j++) {
    let ko = (b * p.tk + j) * width + h * hd;
    var s = 0.0;
    for (var d = 0u; d < hd; d++) { s += qv[d] * k[ko + d]; }
    s *= p.scale;
    if (s > m) {
      let c = exp(m - s);
      l = l * c + 1.0;
      for (var d = 0u; d < hd; d++) { acc[d] = acc[d] * c + v[ko + d]; }
      m = s;
    } else {
      let e = exp(s - m);
      l += e;
      for (var d = 0u; d < hd; d++) { acc[d] += e * v[ko + d]; }
    }
  }
  let inv = 1.0 / l;
  for (var d = 0u; d < hd; d++) { out[qo + d] = acc[d] * inv; }
  lse[r] = m + log(l);
}
