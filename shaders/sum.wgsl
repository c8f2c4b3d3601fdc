// One pass of a deterministic sum: block g adds x[g * CHUNK .. (g + 1) * CHUNK), CHUNK = WG * ITEMS, and
// writes partial[g]. Each invocation first adds ITEMS elements strided by WG (coalesced), then the workgroup
// combines its WG partial sums by a fixed-order tree in workgroup memory. The host repeats the pass on the
// partials until one value is left, so the summation order depends only on n. Blocks are walked grid-stride:
// workgroup w handles blocks w, w + G, w + 2G, ... (G = number of workgroups).
override WG: u32 = 256; // power of two
override ITEMS: u32 = 16;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partial: array<f32>;
struct Params { n: u32, groups: u32 }
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) t: u32,
) {
  for (var g = wid.x; g < p.groups; g += nwg.x) {
    let base = g * WG * ITEMS;
    var acc = 0.0;
    for (var i = 0u; i < ITEMS; i++) {
      let idx = base + i * WG + t;
      if (idx < p.n) { acc += x[idx]; }
    }
    red[t] = acc;
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
      workgroupBarrier();
      if (t < stride) { red[t] += red[t + stride]; }
    }
    if (t == 0u) { partial[g] = red[0]; }
    workgroupBarrier(); // red is rewritten by the next block
  }
}
