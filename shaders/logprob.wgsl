// Fused log-softmax + gather, one workgroup per row, never materializing probabilities.
//   lse[r]  = log(sum_c exp(logits[r, c]))
//   logp[r] = logits[r, targets[r]] - lse[r]
// Each thread streams its strided slice of the row with an online (max, sum): when the running max grows, the
// running sum is rescaled by exp(old - new). The per-thread pairs are then merged by a workgroup tree.
// Robust to huge magnitudes (+-1e4) and to -inf-like values (-3e38): exponents are always <= 0.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> logp: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
struct Params { rows: u32, vocab: u32, gx: u32 }
@group(0) @binding(4) var<uniform> p: Params;

const NEG_BIG: f32 = -3.4028234e38;

var<workgroup> wmax: array<f32, WG>;
var<workgroup> wsum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * p.gx + wid.x;
  if (row >= p.rows) { return; }
  let base = row * p.vocab;

  var m = NEG_BIG;
  var s = 0.0;
  for (var c = lid; c < p.vocab; c += WG) {
    let v = logits[base + c];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  wmax[lid] = m;
  wsum[lid] = s;
  workgroupBarrier();

  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let m1 = wmax[lid];
      let m2 = wmax[lid + stride];
      let mm = max(m1, m2);
      wsum[lid] = wsum[lid] * exp(m1 - mm) + wsum[lid + stride] * exp(m2 - mm);
      wmax[lid] = mm;
    }
    workgroupBarrier();
  }

  if (lid == 0u) {
    let m = wmax[0];
    let logS = log(wsum[0]);
    lse[row] = m + logS;
    let t = targets[row];
    if (t >= 0 && u32(t) < p.vocab) {
      // (x_t - max) - log(sum) rather than x_t - lse: no rounding of a large lse leaks into logp.
      logp[row] = (logits[base + u32(t)] - m) - logS;
    } else {
      logp[row] = bitcast<f32>(0x7fc00000u | (p.vocab & 1u)); // NaN (built at run time): target out of range
    }
  }
}
