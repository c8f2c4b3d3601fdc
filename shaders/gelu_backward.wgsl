// GELU (tanh approximation) gradient: with t = tanh(z), z = sqrt(2/pi) (x + 0.044715 x^3),
//   dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)).
// Evaluated through s = sigmoid(2z) = 0.5 (1 + t), so 1 - t^2 = 4 s (1 - s) with 1 - s = sigmoid(-2z):
//   dx = dy * (s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)).
// z is clamped to [-40, 40]: no exp overflow, no tanh overflow.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
struct Params { n: u32, rowStride: u32 }
@group(0) @binding(3) var<uniform> p: Params;

const C: f32 = 0.7978845608028654; // sqrt(2 / pi)
const A: f32 = 0.044715;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowStride + gid.x;
  if (gid.x >= p.rowStride || i >= p.n) { return; }
  let v = x[i];
  let z = clamp(C * (v + A * v * v * v), -40.0, 40.0);
  let s = 1.0 / (1.0 + exp(-2.0 * z));
  let sc = 1.0 / (1.0 + exp(2.0 * z)); // 1 - s without cancellation
  dx[i] = dy[i] * (s + 2.0 * v * s * sc * C * (1.0 + 3.0 * A * v * v));
}
