// Attention backward, step 3: dk and dv. One thread per (b, h, key row j), looping in order over the queries that
// see key j (causal: i >= j - (tk - tq); non-causal: every query); a padded key (j >= len_b) is seen by no query
// and gets zero dk, dv. No atomics, so the result is deterministic:
//   P_ij = exp(scale q_i.k_j - lse_i),  dv_j = sum_i P_ij dO_i,
//   dS_ij = P_ij (dO_i . v_j - D_i),    dk_j = scale * sum_i dS_ij q_i.
override WG: u32 = 64;

/** Largest supported head dimension (private array size). */
const MAXD: u32 = 128u;

@group(0) @binding(0) var<storage, read> dOut: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;
@group(0) @binding(7) var<storage, read_write> dv: array<f32>;
/** Valid keys per batch entry (read only when hasLens != 0; a 1-element placeholder otherwise). */
@group(0) @binding(8) var<storage, read> lens: array<i32>;
struct Params { rows: u32, rowStride: u32, tq: u32, tk: u32, heads: u32, hd: u32, scale: f32, causal: u32, hasLens: u32 }
@group(0) @binding(9) var<uniform> p: Params;

/** Valid keys of batch entry b: lens[b] when lengths were given, else tk. */
fn keyLen(b: u32) -> u32 {
  var n = p.tk;
  if (p.hasLens != 0u) { n = u32(lens[b]); }
  return n;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  // rows = batch * heads * tk here: one thread per key row.
  let r = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || r >= p.rows) { return; }
  let bh = r / p.tk;
  let j = r - bh * p.tk;
  let b = bh / p.heads;
  let h = bh - b * p.heads;
  let width = p.heads * p.hd;
  let hd = p.hd;
  let ko = (b * p.tk + j) * width + h * hd;

  var kv: array<f32, MAXD>;
  var vv: array<f32, MAXD>;
  var dka: array<f32, MAXD>;
  var dva: array<f32, MAXD>;
  for (var d = 0u; d < hd; d++) {
    kv[d] = k[ko + d];
    vv[d] = v[ko + d];
  }
  let off = p.tk - p.tq;
  var i0 = 0u;
  if (p.causal != 0u && j > off) { i0 = j - off; }
  // A masked key: no query runs, so dka and dva stay zero.
  let i1 = select(p.tq, 0u, j >= keyLen(b));
  for (var i = i0; i < i1; i++) {
    let qo = (b * p.tq + i) * width + h * hd;
    let ri = bh * p.tq + i;
    var s = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < hd; d++) {
      s += q[qo + d] * kv[d];
      dp += dOut[qo + d] * vv[d];
    }
    let pr = exp(s * p.scale - lse[ri]);
    let ds = pr * (dp - delta[ri]);
    for (var d = 0u; d < hd; d++) {
      dva[d] += pr * dOut[qo + d];
      dka[d] += ds * q[qo + d];
    }
  }
  for (var d = 0u; d < hd; d++) {
    dk[ko + d] = p.scale * dka[d];
    dv[ko + d] = dva[d];
  }
}
