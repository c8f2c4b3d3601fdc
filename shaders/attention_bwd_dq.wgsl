// Attention backward, step 2: dq. One thread per (b, h, query row i), looping the keys it sees (j < n, n as in
// attention.wgsl: causal and/or padded keys) and recomputing P_ij = exp(scale q_i.k_j - lse_i) from the stored lse:
//   dS_ij = P_ij (dO_i . v_j - D_i),  dq_i = scale * sum_j dS_ij k_j.
override WG: u32 = 64;

/** Largest supported head dimension (private array size). */
const MAXD: u32 = 128u;

@group(0) @binding(0) var<storage, read> dOut: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
/** Valid keys per batch entry (read only when hasLens != 0; a 1-element placeholder otherwise). */
@group(0) @binding(7) var<storage, read> lens: array<i32>;
struct Params { rows: u32, rowStride: u32, tq: u32, tk: u32, heads: u32, hd: u32, scale: f32, causal: u32, hasLens: u32 }
@group(0) @binding(8) var<uniform> p: Params;

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
  var gv: array<f32, MAXD>;
  var acc: array<f32, MAXD>;
  for (var d = 0u; d < hd; d++) {
    qv[d] = q[qo + d];
    gv[d] = dOut[qo + d];
  }
  let l = lse[r];
  let dr = delta[r];
  let kl = keyLen(b);
  let n = select(kl, min(i + (p.tk - p.tq) + 1u, kl), p.causal != 0u);
  for (var j = 0u; j < n; j++) {
    let ko = (b * p.tk + j) * width + h * hd;
    var s = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < hd; d++) {
      s += qv[d] * k[ko + d];
      dp += gv[d] * v[ko + d];
    }
    let ds = exp(s * p.scale - l) * (dp - dr);
    for (var d = 0u; d < hd; d++) { acc[d] += ds * k[ko + d]; }
  }
  for (var d = 0u; d < hd; d++) { dq[qo + d] = p.scale * acc[d]; }
}
