// Nucleus (top-p) sampling with caller-provided uniforms, one workgroup per row, no sorting. For row r:
//   e_c = exp((x_c - max x) / T)        (unnormalized softmax(x / T); p_c = e_c / Z, Z = sum e)
//   threshold t = the largest value such that the mass of {c : e_c >= t} reaches topP * Z; it is found by bisection
//                 on the bit pattern of t (non-negative f32 bit patterns are ordered like the values), so after
//                 31 halvings t is exactly one of the e_c: kept = {e_c >= t}, ties at the threshold kept
//   K = kept mass; token = the first c in index order whose running kept mass exceeds u * K
//       (each thread sums a contiguous chunk, an exclusive prefix over the chunks is built in workgroup memory,
//       then every thread scans its chunk from its prefix; the smallest hit wins)
//   If rounding leaves no hit, the last kept c (as the cpu reference).
// All masses are double-float (hi, lo) pairs so that the summation order does not move decisions; the products
// topP * Z and u * K are exact (Dekker, with operands split by bit masks so no FMA contraction can spoil them).
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> uniforms: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
// topP arrives as a double-float (topP = topPHi + topPLo exactly enough); nucleus = 0 when topP >= 1 (keep all).
struct Params { rows: u32, vocab: u32, gx: u32, nucleus: u32, temperature: f32, topPHi: f32, topPLo: f32 }
@group(0) @binding(3) var<uniform> p: Params;

const NEG_BIG: f32 = -3.4028234e38;
/** Bit pattern just above 1.0: e_c <= 1, so the mass at this threshold is 0. */
const ABOVE_ONE: u32 = 0x3f800001u;
const NONE: u32 = 0xffffffffu;

var<workgroup> redMax: array<f32, WG>;
var<workgroup> red: array<vec2<f32>, WG>;
var<workgroup> best: atomic<u32>;
var<workgroup> lastKept: atomic<i32>;
var<workgroup> keptMass: vec2<f32>;

// ---- double-float helpers: (hi, lo) with |lo| <= ulp(hi) / 2 ----
fn twoSum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}
fn quickTwoSum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  return vec2<f32>(s, b - (s - a));
}
fn dfAdd(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
  let s = twoSum(x.x, y.x);
  let t = twoSum(x.y, y.y);
  let u = quickTwoSum(s.x, s.y + t.x);
  return quickTwoSum(u.x, u.y + t.y);
}
fn dfAddF(x: vec2<f32>, b: f32) -> vec2<f32> {
  let s = twoSum(x.x, b);
  return quickTwoSum(s.x, s.y + x.y);
}
/** a = hi + lo with hi holding the top 12 significant bits: both halves multiply exactly. */
fn split(a: f32) -> vec2<f32> {
  let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  return vec2<f32>(hi, a - hi);
}
fn twoProd(a: f32, b: f32) -> vec2<f32> {
  let prod = a * b;
  let sa = split(a);
  let sb = split(b);
  let err = ((sa.x * sb.x - prod) + sa.x * sb.y + sa.y * sb.x) + sa.y * sb.y;
  return vec2<f32>(prod, err);
}
fn dfMulF(x: vec2<f32>, b: f32) -> vec2<f32> {
  let t = twoProd(x.x, b);
  return quickTwoSum(t.x, t.y + x.y * b);
}
fn dfGreater(a: vec2<f32>, b: vec2<f32>) -> bool {
  return a.x > b.x || (a.x == b.x && a.y > b.y);
}
fn dfGreaterEq(a: vec2<f32>, b: vec2<f32>) -> bool {
  return a.x > b.x || (a.x == b.x && a.y >= b.y);
}

/** Workgroup sum of double-floats; every thread gets the result. Ends with a barrier so `red` can be reused. */
fn reduceDf(lid: u32, v: vec2<f32>) -> vec2<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { red[lid] = dfAdd(red[lid], red[lid + stride]); }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

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
    let vocab = p.vocab;
    let temp = p.temperature;

    // 1. Row max of the raw logits (x / T is monotone in x).
    var m = NEG_BIG;
    for (var c = lid; c < vocab; c += WG) { m = max(m, logits[base + c]); }
    redMax[lid] = m;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
      if (lid < stride) { redMax[lid] = max(redMax[lid], redMax[lid + stride]); }
      workgroupBarrier();
    }
    let xmax = redMax[0];

    // 2. Z = sum of e_c.
    var z = vec2<f32>(0.0, 0.0);
    for (var c = lid; c < vocab; c += WG) { z = dfAddF(z, exp((logits[base + c] - xmax) / temp)); }
    z = reduceDf(lid, z);

    // 3. Threshold by bisection on the bit pattern: invariant mass(lo) >= topP * Z > mass(hi).
    var lo = 0u;
    if (p.nucleus != 0u) {
      let want = dfAdd(dfMulF(z, p.topPHi), vec2<f32>(z.x * p.topPLo, 0.0));
      var hi = ABOVE_ONE;
      for (var it = 0u; it < 31u; it++) {
        let mid = lo + (hi - lo) / 2u;
        let t = bitcast<f32>(mid);
        var s = vec2<f32>(0.0, 0.0);
        for (var c = lid; c < vocab; c += WG) {
          let e = exp((logits[base + c] - xmax) / temp);
          if (e >= t) { s = dfAddF(s, e); }
        }
        s = reduceDf(lid, s);
        if (dfGreaterEq(s, want)) { lo = mid; } else { hi = mid; }
      }
    }
    let thr = bitcast<f32>(lo);

    // 4. Chunk sums of kept mass over contiguous chunks, then the exclusive prefix over chunks.
    let chunk = (vocab + WG - 1u) / WG;
    let c0 = min(lid * chunk, vocab);
    let c1 = min(c0 + chunk, vocab);
    var cs = vec2<f32>(0.0, 0.0);
    for (var c = c0; c < c1; c++) {
      let e = exp((logits[base + c] - xmax) / temp);
      if (e >= thr) { cs = dfAddF(cs, e); }
    }
    red[lid] = cs;
    if (lid == 0u) {
      atomicStore(&best, NONE);
      atomicStore(&lastKept, -1);
    }
    workgroupBarrier();
    if (lid == 0u) {
      var acc = vec2<f32>(0.0, 0.0);
      for (var t = 0u; t < WG; t++) {
        let v = red[t];
        red[t] = acc;
        acc = dfAdd(acc, v);
      }
      keptMass = acc;
    }
    workgroupBarrier();
    let kept = keptMass;
    let goal = dfMulF(kept, uniforms[row]);

    // 5. Every thread scans its chunk from its prefix; the first index whose running mass exceeds u * K wins.
    var run = red[lid];
    var found = false;
    var last = -1;
    for (var c = c0; c < c1; c++) {
      let e = exp((logits[base + c] - xmax) / temp);
      if (e >= thr) {
        last = i32(c);
        if (!found) {
          run = dfAddF(run, e);
          if (dfGreater(run, goal)) {
            atomicMin(&best, c);
            found = true;
          }
        }
      }
    }
    atomicMax(&lastKept, last);
    workgroupBarrier();
    if (lid == 0u) {
      let b = atomicLoad(&best);
      out[row] = select(atomicLoad(&lastKept), i32(b), b != NONE);
    }
    workgroupBarrier();
  }
}
