// GELU, tanh approximation: y = 0.5 x (1 + tanh(z)), z = sqrt(2/pi) (x + 0.044715 x^3).
// Evaluated as x * sigmoid(2z) (0.5 (1 + tanh z) = 1 / (1 + exp(-2z))): no tanh overflow, and no cancellation in
// 1 + tanh(z) for negative x. z is clamped to [-40, 40] so exp never overflows (sigmoid(80) == 1 in f32).
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct Params { n: u32, rowStride: u32 }
@group(0) @binding(2) var<uniform> p: Params;

const C: f32 = 0.7978845608028654; // sqrt(2 / pi)
const A: f32 = 0.044715;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || i >= p.n) { return; }
  let v = x[i];
  let z = clamp(C * (v + A * v * v * v), -40.0, 40.0);
  out[i] = v / (1.0 + exp(-2.0 * z));
}
