// In place: logits[r, c] = (exp(logits[r, c] - lse[r]) - [c == targets[r]]) * weight[r].
// With weight = -dL/dlogp this is dL/dlogits. One thread per element (1-D launch folded into 2-D).
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
struct Params { n: u32, rowStride: u32, vocab: u32 }
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || i >= p.n) { return; }
  let row = i / p.vocab;
  let c = i - row * p.vocab;
  let onehot = select(0.0, 1.0, i32(c) == targets[row]);
  logits[i] = (exp(logits[i] - lse[row]) - onehot) * weight[row];
}
