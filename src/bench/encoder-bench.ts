// Encoder throughput in Node: our BERT encoder on the fast cpu backend (WASM SIMD kernels) vs onnxruntime-web's
// wasm backend running the same model exported by src/model/onnx-export.ts, with the same thread count (ORT's is
// fixed before its first session, so each thread count runs in its own child process). Both sides take padded
// token ids on the host and return pooled, L2-normalized embeddings on the host; their outputs are checked to
// agree (cosine >= 0.999 per row) before timing.
// Model: the shipped encoder (public/encoder/) when present, else the `small` preset with random weights.
// Batches: queries 64 x 24 tokens and passages 64 x 64 tokens (the shapes of a retrieval eval).
// Run: node scripts/node-run.mjs src/bench/encoder-bench.ts [--budget-ms N] [--filter SUBSTR,...] [--threads 1|2]
// One JSON line per case on stdout ({case, shape, backend, adapter, ours, anchor, anchor_value, ratio, unit, reps,
// texts_per_s}); progress on stderr. Returns 1 when any case failed.
import * as ort from 'onnxruntime-web';
import { createBackend } from '../engine/create.ts';
import type { Backend } from '../engine/types.ts';
import { BertEncoder, ENCODER_PRESETS, type EncoderConfig } from '../model/encoder.ts';
import { exportEncoderOnnx } from '../model/onnx-export.ts';
import { ENCODER_SHAPES, encoderCase, randomEncoderWeights } from './encoder-case.ts';
import { errorText } from './harness.ts';
import { parseThreadedArgs, runThreadChildren, type ThreadedArgs } from './threaded.ts';

const log = (msg: string): void => {
  process.stderr.write(`[bench encoder] ${msg}\n`);
};

type Args = ThreadedArgs;

/** The shipped encoder's config and weights, or the small preset with random weights. */
async function benchModel(backend: Backend): Promise<{ name: string; config: EncoderConfig; weights: Map<string, Float32Array> }> {
  try {
    const node = await import('../model/encoder-files-node.ts');
    const e = await node.readEncoderDir(backend.ops, node.SHIPPED_ENCODER_DIR);
    const weights = await e.model.weights();
    const config = e.model.config;
    e.dispose();
    return { name: `shipped ${e.id}`, config, weights };
  } catch (e) {
    log(`no shipped encoder (${errorText(e)}): the small preset with random weights`);
    const config: EncoderConfig = { ...ENCODER_PRESETS.small };
    const weights = randomEncoderWeights(config, 1);
    return { name: 'small preset (random weights)', config, weights };
  }
}

async function runCases(threads: 1 | 2, o: Args): Promise<number> {
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const backend = await createBackend('cpu', { threads });
  log(`backend ${backend.info.adapter}; onnxruntime-web ${ort.env.versions.web ?? '?'} wasm, numThreads ${String(ort.env.wasm.numThreads)}`);
  const { name, config, weights } = await benchModel(backend);
  log(`model: ${name} ${JSON.stringify(config)}`);
  const model = new BertEncoder(backend.ops, config, weights);
  const session = await ort.InferenceSession.create(exportEncoderOnnx(config, weights), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  let failed = 0;
  try {
    for (const s of ENCODER_SHAPES) {
      const caseName = `encoder-embed-${threads}t ${s.label}`;
      if (o.filters.length > 0 && !o.filters.some((f) => caseName.includes(f))) continue;
      const t0 = performance.now();
      try {
        const labels = {
          name: caseName,
          backend: 'cpu' as const,
          adapter: backend.info.adapter,
          anchor: `onnxruntime-web wasm (${threads} thread${threads > 1 ? 's' : ''}) on the exported ONNX encoder`,
        };
        const line = await encoderCase(ort, labels, model, session, s, o.budgetMs, log);
        process.stdout.write(`${JSON.stringify(line)}\n`);
        log(`${caseName}: ours ${line.ours} ms, ORT ${line.anchor_value} ms, ratio ${line.ratio} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        log(`ERROR ${caseName}: ${errorText(e)} — case aborted`);
      }
    }
  } finally {
    await session.release();
    model.dispose();
    backend.dispose();
  }
  return failed > 0 ? 1 : 0;
}

export async function main(args: string[]): Promise<number> {
  const o = parseThreadedArgs('encoder-bench', args);
  return o.threads === null ? runThreadChildren('src/bench/encoder-bench.ts', o, log) : runCases(o.threads, o);
}
