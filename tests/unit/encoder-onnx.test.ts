// Our BERT encoder exported as ONNX (src/model/onnx-export.ts) and run by onnxruntime-web's wasm backend (the
// reference executor) gives the embeddings our encoder gives on the cpu backend (WASM SIMD and the TypeScript
// reference): cosine >= 0.999 on every sentence, padded batches included. Weights are random with a large spread
// so every part of the graph moves the output (a wrong transpose or mask would show).
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { BertEncoder } from '../../src/model/encoder.ts';
import { exportEncoderOnnx, onnxInputs } from '../../src/model/onnx-export.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEncoderDir, SHIPPED_ENCODER_DIR } from '../../src/model/encoder-files-node.ts';
import { cosine, ENCODER_TEST_SENTENCES, testEncoderSetup } from '../shared/encoder-fixture.ts';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
});

for (const which of ['cpu wasm-simd', 'cpu reference'] as const) {
  describe(`ONNX export of the encoder vs our encoder on ${which}`, () => {
    let be: Backend;
    beforeAll(async () => {
      be = which === 'cpu reference' ? createCpuReferenceBackend() : await createBackend('cpu', { threads: 1 });
    });
    afterAll(() => be?.dispose());

    it('ORT wasm agrees with ours on every test sentence (cosine >= 0.999)', async () => {
      const { config, weights, tokenizer } = testEncoderSetup();
      const model = new BertEncoder(be.ops, config, weights);
      const onnx = exportEncoderOnnx(config, weights);
      const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
      try {
        const batch = tokenizer.encodeBatch(ENCODER_TEST_SENTENCES, config.maxLen);
        const { seqLen: t, lengths, ids } = batch;
        const n = ENCODER_TEST_SENTENCES.length;
        const ours = await model.embed(ids, lengths, n, t);
        const { inputIds, attentionMask } = onnxInputs(ids, lengths, n, t);
        const out = await session.run({
          input_ids: new ort.Tensor('int64', inputIds, [n, t]),
          attention_mask: new ort.Tensor('int64', attentionMask, [n, t]),
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
        // The check discriminates: different sentences are far apart.
        let maxOther = -1;
        for (let i = 1; i < n; i++) maxOther = Math.max(maxOther, cosine(ours.subarray(0, d), ours.subarray(i * d, (i + 1) * d)));
        expect(maxOther).toBeLessThan(0.99);
        // Stricter than the cosine: a wrong GELU constant (0.03 for 0.044715) still gives cosine 0.99997.
        expect(maxAbs).toBeLessThan(2e-5);
        console.log(`[encoder-onnx] ${which}: worst cosine ours vs ORT wasm 1 - ${(1 - worst).toExponential(2)}, max |diff| ${maxAbs.toExponential(2)} over ${n} sentences`);
      } finally {
        await session.release();
        model.dispose();
      }
    });
  });
}

// The shipped encoder must be there (public/encoder/, written by `npm run cli -- encoder train`): no skip.
describe('the shipped encoder (public/encoder/) exported to ONNX', () => {
  it.each(['cpu', 'webgpu'] as const)('ORT wasm agrees with ours on the %s backend on every test sentence (cosine >= 0.999)', async (kind) => {
    expect(existsSync(join(SHIPPED_ENCODER_DIR, 'model.safetensors')), 'public/encoder/model.safetensors is missing').toBe(true);
    const be = kind === 'cpu' ? await createBackend('cpu', { threads: 1 }) : await createBackend('webgpu');
    const e5 = await readEncoderDir(be.ops, SHIPPED_ENCODER_DIR);
    const { config } = e5.model;
    const session = await ort.InferenceSession.create(exportEncoderOnnx(config, await e5.model.weights()), { executionProviders: ['wasm'] });
    try {
      const batch = e5.tokenizer.encodeBatch(ENCODER_TEST_SENTENCES, e5.maxLen);
      const n = batch.batch;
      const ours = await e5.model.embed(batch.ids, batch.lengths, n, batch.seqLen);
      const { inputIds, attentionMask } = onnxInputs(batch.ids, batch.lengths, n, batch.seqLen);
      const out = await session.run({
        input_ids: new ort.Tensor('int64', inputIds, [n, batch.seqLen]),
        attention_mask: new ort.Tensor('int64', attentionMask, [n, batch.seqLen]),
      });
      const ref = out.embeddings.data as Float32Array;
      const d = config.dim;
      let worst = 1;
      for (let i = 0; i < n; i++) {
        const c = cosine(ours.subarray(i * d, (i + 1) * d), ref.subarray(i * d, (i + 1) * d));
        worst = Math.min(worst, c);
        expect(c, `sentence ${i}`).toBeGreaterThanOrEqual(0.999);
      }
      console.log(`[encoder-onnx] shipped ${e5.id} on ${kind}: worst cosine ours vs ORT wasm 1 - ${(1 - worst).toExponential(2)} over ${n} sentences`);
    } finally {
      await session.release();
      e5.dispose();
      be.dispose();
    }
  });
});
