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
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Grid-stride over rows: one row per workgroup on hardware GPUs; on software adapters a few workgroups
  // walk many rows (each workgroup with barriers has a high fixed cost there). The barrier at the end keeps
  // the next row from overwriting workgroup memory that a slower thread still reads.
  for (var row = wid.y * p.gx + wid.x; row < p.rows; row += nwg.x * nwg.y) {
    let base = row * p.vocab;

    // Four logits per step: one rescale of the running sum per step, no data-dependent branch (software GPUs
    // run invocations in SIMD lanes, where a divergent branch costs both sides). Lanes past the row end add 0.
    var m = NEG_BIG;
    var s = 0.0;
    for (var c = lid * 4u; c < p.vocab; c += WG * 4u) {
      let valid = vec4<bool>(true, c + 1u < p.vocab, c + 2u < p.vocab, c + 3u < p.vocab);
      let v = select(vec4<f32>(NEG_BIG), vec4<f32>(
        logits[base + c],
        logits[base + min(c + 1u, p.vocab - 1u)],
        logits[base + min(c + 2u, p.vocab - 1u)],
        logits[base + min(c + 3u, p.vocab - 1u)],
      ), valid);
      let mNew = max(m, max(max(v.x, v.y), max(v.z, v.w)));
      let e = select(vec4<f32>(0.0), exp(v - vec4<f32>(mNew)), valid);
      s = s * exp(m - mNew) + ((e.x + e.y) + (e.z + e.w));
      m = mNew;
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
    workgroupBarrier();
  }
}
