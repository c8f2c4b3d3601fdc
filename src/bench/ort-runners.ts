// onnxruntime-web sessions and runners for the benchmark anchors, shared by the Node benches (wasm EP) and the
// Chromium bench page (webgpu EP): the MatMul model and the LogSoftmax + GatherElements model of onnx-model.ts,
// fed from host arrays and read back to host arrays (the same work as our array-level Backend calls).
import * as ort from 'onnxruntime-web';

export async function wasmSession(model: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

/** C = A B on host arrays through a MatMul session. */
export function ortMatmulRunner(
  session: ort.InferenceSession, a: Float32Array, b: Float32Array, m: number, k: number, n: number,
): () => Promise<Float32Array> {
  return async () => {
    const out = await session.run({ A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) });
    return out.C.data as Float32Array;
  };
}

/** logp[r] = log_softmax(logits[r])[targets[r]] through a LogSoftmax + GatherElements session. */
export function ortLogprobRunner(
  session: ort.InferenceSession, logits: Float32Array, targets: Int32Array, rows: number, vocab: number,
): () => Promise<Float32Array> {
  const targets64 = BigInt64Array.from(targets, (t) => BigInt(t));
  return async () => {
    const out = await session.run({
      X: new ort.Tensor('float32', logits, [rows, vocab]),
      targets: new ort.Tensor('int64', targets64, [rows, 1]),
    });
    return out.logp.data as Float32Array;
  };
}
