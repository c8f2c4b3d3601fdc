// Top-k per row (k <= 16) of scores [rows, n]: descending score, ties broken by the lower column index; the order
// is the TypeScript reference's (src/retrieval/topk-cpu.ts), bit for bit.
//
// Scores are read as raw u32 bits and compared through an order-preserving key (no float compares, so neither
// NaN nor fast-math can disturb the order): key = bits | 0x80000000 for non-negative numbers, ~bits for negative
// ones; -0 takes +0's key and NaN the key 0, the lowest. Values are copied out as bits (NaN stays NaN).
//
// One workgroup per row, grid-stride over rows (few workgroups that loop on software adapters, see rowgrid.ts):
//   1. every thread keeps a private sorted list of its best k over the strided columns c = lid, lid + WG, ...
//   2. the lists go to workgroup memory; after ONE barrier thread 0 selects the best k of the WG * k entries.
// The workgroup memory is double-buffered by row parity, so the next row's lists never overwrite the ones
// thread 0 is still merging and a row costs a single barrier (on SwiftShader a pairwise tree merge with log2(WG)
// barriers per row measured the same for n = 23186 and ~1.3x slower for n = 1000; the scan dominates there).
override WG: u32 = 64;
const MAXK: u32 = 16u;

@group(0) @binding(0) var<storage, read> scores: array<u32>;
@group(0) @binding(1) var<storage, read_write> outVal: array<u32>;
@group(0) @binding(2) var<storage, read_write> outIdx: array<i32>;
struct Params { rows: u32, n: u32, k: u32, gx: u32 }
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> sk: array<u32, 2u * WG * MAXK>;
var<workgroup> si: array<u32, 2u * WG * MAXK>;
var<workgroup> scnt: array<u32, 2u * WG>;

fn orderKey(bits: u32) -> u32 {
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return 0u; }
  if (bits == 0x80000000u) { return 0x80000000u; }
  if ((bits & 0x80000000u) != 0u) { return ~bits; }
  return bits | 0x80000000u;
}

/** (ka, ia) ranks before (kb, ib). */
fn better(ka: u32, ia: u32, kb: u32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = p.k;
  let n = p.n;
  var parity = 0u;
  for (var row = wid.y * p.gx + wid.x; row < p.rows; row += nwg.x * nwg.y) {
    let base = row * n;

    // 1. Private top-k over the strided slice (columns in increasing order: an equal key never displaces).
    var pk: array<u32, MAXK>;
    var pi: array<u32, MAXK>;
    var cnt = 0u;
    var last = 0u; // the last entry's key once the list is full
    for (var c = lid; c < n; c += WG) {
      let key = orderKey(scores[base + c]);
      if (cnt == k && key <= last) { continue; }
      var j = cnt;
      if (cnt < k) { cnt++; } else { j = k - 1u; }
      while (j > 0u && key > pk[j - 1u]) {
        pk[j] = pk[j - 1u];
        pi[j] = pi[j - 1u];
        j--;
      }
      pk[j] = key;
      pi[j] = c;
      if (cnt == k) { last = pk[k - 1u]; }
    }
    let buf = parity * WG * MAXK;
    let mine = buf + lid * MAXK;
    for (var j = 0u; j < cnt; j++) {
      sk[mine + j] = pk[j];
      si[mine + j] = pi[j];
    }
    scnt[parity * WG + lid] = cnt;
    workgroupBarrier();

    // 2. Thread 0 selects the best k of all lists (each sorted: a list is left at its first entry that misses).
    if (lid == 0u) {
      var m = 0u;
      for (var t = 0u; t < WG; t++) {
        let at = buf + t * MAXK;
        let len = scnt[parity * WG + t];
        for (var e = 0u; e < len; e++) {
          let key = sk[at + e];
          let idx = si[at + e];
          if (m == k && !better(key, idx, pk[k - 1u], pi[k - 1u])) { break; }
          var j = m;
          if (m < k) { m++; } else { j = k - 1u; }
          while (j > 0u && better(key, idx, pk[j - 1u], pi[j - 1u])) {
            pk[j] = pk[j - 1u];
            pi[j] = pi[j - 1u];
            j--;
          }
          pk[j] = key;
          pi[j] = idx;
        }
      }
      // n >= k, so m == k here.
      for (var j = 0u; j < k; j++) {
        outIdx[row * k + j] = i32(pi[j]);
        outVal[row * k + j] = scores[base + pi[j]];
      }
    }
    parity = 1u - parity;
  }
}
