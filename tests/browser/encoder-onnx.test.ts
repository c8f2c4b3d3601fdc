// In Chromium: our encoder on the WebGPU backend (our WGSL kernels) against the same model exported as ONNX and run
// by onnxruntime-web (the reference executor), on its wasm backend and on its WebGPU execution provider: cosine
// >= 0.999 on every test sentence. Same fixture as tests/unit/encoder-onnx.test.ts.
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/engine/types.ts';
import { createWebGpuBackend } from '../../src/engine/webgpu/backend.ts';
import { BertEncoder } from '../../src/model/encoder.ts';
import { exportEncoderOnnx, onnxInputs } from '../../src/model/onnx-export.ts';
import { cosine, ENCODER_TEST_SENTENCES, testEncoderSetup } from '../shared/encoder-fixture.ts';

describe('encoder: our WebGPU backend vs onnxruntime-web in Chromium', () => {
  let be: Backend;
  let ours: Float32Array;
  const { config, weights, tokenizer } = testEncoderSetup();
  const n = ENCODER_TEST_SENTENCES.length;
  const batch = tokenizer.encodeBatch(ENCODER_TEST_SENTENCES, config.maxLen);
  const { inputIds, attentionMask } = onnxInputs(batch.ids, batch.lengths, n, batch.seqLen);
  const onnx = exportEncoderOnnx(config, weights);

  beforeAll(async () => {
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    be = await createWebGpuBackend();
    const model = new BertEncoder(be.ops, config, weights);
    ours = await model.embed(batch.ids, batch.lengths, n, batch.seqLen);
    model.dispose();
  });
  afterAll(() => be?.dispose());

  for (const ep of ['wasm', 'webgpu'] as const) {
    it(`ORT ${ep} agrees with our WGSL encoder on every test sentence (cosine >= 0.999)`, async () => {
      const session = await ort.InferenceSession.create(onnx, { executionProviders: [ep] });
      try {
        const out = await session.run({
          input_ids: new ort.Tensor('int64', inputIds, [n, batch.seqLen]),
          attention_mask: new ort.Tensor('int64', attentionMask, [n, batch.seqLen]),
        });
        const ref = out.embeddings.data as Float32Array;
        expect(out.embeddings.dims).toEqual([n, config.dim]);
        const d = config.dim;
        let worst = 1;
        let maxAbs = 0;
        for (let i = 0; i < n * d; i++) maxAbs = Math.max(maxAbs, Math.abs(ours[i] - ref[i]));
        for (let i = 0; i < n; i++) {
          const c = cosine(ours.subarray(i * d, (i + 1) * d), ref.subarray(i * d, (i + 1) * d));
          worst = Math.min(worst, c);
          expect(c, `sentence ${i}: ${ENCODER_TEST_SENTENCES[i]}`).toBeGreaterThanOrEqual(0.999);
        }
        expect(maxAbs).toBeLessThan(1e-4);
        console.log(`[encoder-onnx browser] webgpu vs ORT ${ep}: worst cosine 1 - ${(1 - worst).toExponential(2)}, max |diff| ${maxAbs.toExponential(2)} over ${n} sentences (${be.info.adapter})`);
      } finally {
        await session.release();
      }
    });
  }
});
