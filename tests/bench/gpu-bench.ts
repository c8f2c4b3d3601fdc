// WebGPU benchmarks, run in headless Chromium by scripts/bench.mjs (served by Vite from tests/bench/gpu.html).
// Results leave through console messages the Node side parses:
//   BENCH_LINE <json>   one result line (DESIGN.md section 9)
//   BENCH_LOG <text>    progress
//   BENCH_ERROR <text>  a case that was aborted (disagreeing outputs, a failure)
//   BENCH_DONE <json>   {failed}: the run is over
// Query parameters: filter=a,b (run only cases whose id contains one of the substrings), budget=ms (rough timing
// budget per side of a case).
//
// Cases: our matmul (default dispatch) vs onnxruntime-web MatMul on the webgpu EP, arrays in and out on both sides
// ("matmul-array") and data resident on the GPU on both sides ("matmul-device-ort": ORT with Tensor.fromGpuBuffer
// inputs and a pre-allocated gpu-buffer output); our matmul vs our naive kernel, resident ("matmul-device"); our
// fused logprob vs ORT LogSoftmax+GatherElements (webgpu EP; LogSoftmax falls back to ORT's CPU kernel), arrays in
// and out ("logprob-array"); fused vs our unfused, resident ("logprob-device"); int8 vs fp32 matmul, resident
// ("matmul-int8-device"); the E5-style encoder (the shipped one in public/encoder/, else the small preset with random
// weights) on our WebGPU backend vs the same model exported to ONNX on ORT's webgpu EP, host ids in and host
// embeddings out on both sides ("encoder-embed-webgpu").
import * as ort from 'onnxruntime-web';
import {
  type BenchLine, type MatmulShape, type TimeOptions, type Timing, benchLine, errorText, expectClose,
  expectMatmulSample, logprobReference, matmulShape, MismatchError, now, randomF32, randomTargets, timePair,
} from '../../src/bench/harness.ts';
import { ENCODER_SHAPES, encoderCase, randomEncoderWeights } from '../../src/bench/encoder-case.ts';
import { logprobModel, matmulModel } from '../../src/bench/onnx-model.ts';
import { E5Encoder } from '../../src/model/e5.ts';
import { BertEncoder, ENCODER_PRESETS, type EncoderConfig } from '../../src/model/encoder.ts';
import { fetchEncoderFiles } from '../../src/model/encoder-files.ts';
import { exportEncoderOnnx } from '../../src/model/onnx-export.ts';
import { ortLogprobRunner, ortMatmulRunner } from '../../src/bench/ort-runners.ts';
import { quantizeInt8 } from '../../src/engine/cpu/matmul.ts';
import type { Backend, Int8Weight, Tensor } from '../../src/engine/types.ts';
import { createWebGpuBackend } from '../../src/engine/webgpu/backend.ts';
import type { GpuContext } from '../../src/engine/webgpu/context.ts';
import { matmulWith } from '../../src/engine/webgpu/kernels/matmul.ts';
import { asGpu } from '../../src/engine/webgpu/tensor.ts';

type GpuBackend = Backend & { ctx: GpuContext };

const params = new URLSearchParams(location.search);
const filters = (params.get('filter') ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const budgetMs = Number(params.get('budget') ?? '2000');

const pre = document.getElementById('log');
function send(kind: 'LINE' | 'LOG' | 'ERROR' | 'DONE', payload: string): void {
  console.log(`BENCH_${kind} ${payload}`);
  if (pre) pre.textContent += `${kind} ${payload}\n`;
}
const log = (msg: string): void => send('LOG', msg);

const MATMUL_SHAPES: readonly (MatmulShape & { label: string })[] = [
  { label: 'decode', m: 1, k: 128, n: 512 },
  { label: 'decode-batch', m: 8, k: 128, n: 512 },
  { label: 'training', m: 2048, k: 128, n: 512 },
  { label: 'logits', m: 2048, k: 128, n: 4096 },
];
const INT8_SHAPES: readonly MatmulShape[] = [
  { m: 1, k: 128, n: 512 },
  { m: 8, k: 128, n: 512 },
  { m: 2048, k: 128, n: 512 },
];
const LOGPROB_SHAPES = [
  { rows: 2048, vocab: 4096 },
  { rows: 256, vocab: 30000 },
] as const;

const ORT_GPU = 'onnxruntime-web (webgpu EP)';
const MM_TOL = { atol: 1e-3, rtol: 1e-3 };
const LP_TOL = { atol: 1e-3, rtol: 1e-4 };

/** Runs f and returns its result with the wall-clock ms it took. */
async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = now();
  const r = await f();
  return [r, now() - t0];
}

/**
 * Timing options from what the numerical check took (one call of ours plus one of the anchor, which also warmed
 * both up): when that took seconds (slow shapes on a software GPU) there is no further warm-up. The number of
 * timed pairs then follows from the first one and the budget: never fewer than 3.
 */
function pairOpts(checkMs: number, calls = 1): TimeOptions {
  return { warmup: checkMs >= 2000 ? 0 : 1, minReps: 3, maxReps: 30, budgetMs, calls };
}

/**
 * How many calls one device-resident sample enqueues before its single wait: enough that a sample lasts about
 * 50 ms, so the fixed cost of the wait is amortized; the same count is used for both sides of a case.
 */
async function callsPerSample(checkMs: number, once: () => Promise<unknown>): Promise<number> {
  if (checkMs >= 500) return 1;
  const [, t] = await timed(once);
  return Math.max(1, Math.min(32, Math.round(50 / Math.max(t, 1e-3))));
}

/** One device-resident sample: `calls` calls enqueued back to back, then one wait for the queue. */
const resident = (call: () => void, sync: () => Promise<unknown>, calls: number) => async (): Promise<void> => {
  for (let i = 0; i < calls; i++) call();
  await sync();
};

function makeTensorFromGpu(dev: GPUDevice, data: Float32Array<ArrayBuffer>, dims: number[]): { t: ort.Tensor; buf: GPUBuffer } {
  const buf = dev.createBuffer({
    size: Math.max(16, data.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  dev.queue.writeBuffer(buf, 0, data);
  return { t: ort.Tensor.fromGpuBuffer(buf, { dataType: 'float32', dims }), buf };
}

async function readGpuBuffer(dev: GPUDevice, buf: GPUBuffer, floats: number): Promise<Float32Array> {
  const staging = dev.createBuffer({ size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = dev.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, floats * 4);
  dev.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

interface Ctx {
  backend: GpuBackend;
  adapter: string;
}

/**
 * Runs `f` (the verification part of a case) inside WebGPU error scopes of our device, so a kernel that fails to
 * compile or validate aborts the case instead of timing invalid work.
 */
async function checked<T>(c: Ctx, what: string, f: () => Promise<T>): Promise<T> {
  const dev = c.backend.ctx.device;
  dev.pushErrorScope('validation');
  dev.pushErrorScope('out-of-memory');
  let result: T | undefined;
  let failure: unknown = null;
  try {
    result = await f();
  } catch (e) {
    failure = e;
  }
  const oom = await dev.popErrorScope();
  const invalid = await dev.popErrorScope();
  const gpuError = invalid ?? oom;
  if (gpuError) throw new MismatchError(`${what}: WebGPU error: ${gpuError.message.split('\n')[0]}`);
  if (failure !== null) throw failure;
  return result as T;
}

function line(c: Ctx, name: string, shape: string, anchor: string, ours: Timing, anchorT: Timing): BenchLine {
  return benchLine({ case: name, shape, backend: 'webgpu', adapter: c.adapter, anchor }, ours, anchorT);
}

// ---- matmul ------------------------------------------------------------------------------------------------

async function matmulArray(c: Ctx, s: MatmulShape, a: Float32Array<ArrayBuffer>, b: Float32Array<ArrayBuffer>): Promise<BenchLine> {
  const { m, k, n } = s;
  const session = await ort.InferenceSession.create(matmulModel(m, k, n), { executionProviders: ['webgpu'] });
  try {
    const runOrt = ortMatmulRunner(session, a, b, m, k, n);
    const runOurs = (): Promise<Float32Array> => c.backend.matmul(a, b, m, k, n);
    const [mine, t1] = await timed(() => checked(c, `matmul ${matmulShape(m, k, n)}`, runOurs));
    expectMatmulSample(`matmul ${matmulShape(m, k, n)}: ours`, mine, a, b, m, k, n, MM_TOL);
    const [theirs, t2] = await timed(runOrt);
    const diff = expectClose(`matmul ${matmulShape(m, k, n)}: ORT vs ours`, theirs, mine, MM_TOL.atol, MM_TOL.rtol);
    log(`matmul-array ${matmulShape(m, k, n)}: ORT and ours agree (max |diff| ${diff.toExponential(2)})`);
    const [ours, anchor] = await timePair(runOurs, runOrt, pairOpts(t1 + t2));
    return line(c, 'matmul-array', matmulShape(m, k, n), `${ORT_GPU} MatMul`, ours, anchor);
  } finally {
    await session.release();
  }
}

async function matmulDeviceOrt(c: Ctx, s: MatmulShape, a: Float32Array<ArrayBuffer>, b: Float32Array<ArrayBuffer>): Promise<BenchLine> {
  const { m, k, n } = s;
  const { ops } = c.backend;
  const session = await ort.InferenceSession.create(matmulModel(m, k, n), {
    executionProviders: ['webgpu'],
    preferredOutputLocation: 'gpu-buffer',
  });
  const dev = await ort.env.webgpu.device;
  const A = makeTensorFromGpu(dev, a, [m, k]);
  const B = makeTensorFromGpu(dev, b, [k, n]);
  const C = makeTensorFromGpu(dev, new Float32Array(m * n), [m, n]);
  const ta = ops.tensor(a, [m, k]);
  const tb = ops.tensor(b, [k, n]);
  try {
    const runOrt = (): Promise<unknown> => session.run({ A: A.t, B: B.t }, { C: C.t });
    const ortSync = (): Promise<unknown> => dev.queue.onSubmittedWorkDone();
    const runOurs = (): void => ops.dispose(ops.matmul(ta, tb));
    const [, t2] = await timed(async () => {
      await runOrt();
      await ortSync();
    });
    const [want, t1] = await timed(() => checked(c, `matmul ${matmulShape(m, k, n)}`, async () => {
      const tc = ops.matmul(ta, tb);
      const out = await ops.readF32(tc);
      ops.dispose(tc);
      return out;
    }));
    expectMatmulSample(`matmul ${matmulShape(m, k, n)}: ours`, want, a, b, m, k, n, MM_TOL);
    const diff = expectClose(`matmul ${matmulShape(m, k, n)}: ORT (gpu-buffer) vs ours`, await readGpuBuffer(dev, C.buf, m * n), want, MM_TOL.atol, MM_TOL.rtol);
    log(`matmul-device-ort ${matmulShape(m, k, n)}: ORT and ours agree (max |diff| ${diff.toExponential(2)})`);
    const calls = await callsPerSample(t1, resident(runOurs, () => ops.flush(), 1));
    // ORT's run() is async by API; with GPU inputs and a pre-allocated GPU output it returns once the work is
    // submitted, so `calls` runs are awaited in turn and one queue wait ends the sample, as for ours.
    const [ours, anchor] = await timePair(
      resident(runOurs, () => ops.flush(), calls),
      async () => {
        for (let i = 0; i < calls; i++) await runOrt();
        await ortSync();
      },
      pairOpts(t1 + t2, calls),
    );
    return line(c, 'matmul-device-ort', matmulShape(m, k, n), `${ORT_GPU} MatMul`, ours, anchor);
  } finally {
    ops.dispose(ta);
    ops.dispose(tb);
    await session.release();
    for (const x of [A, B, C]) x.buf.destroy();
  }
}

async function matmulDeviceNaive(c: Ctx, s: MatmulShape, a: Float32Array<ArrayBuffer>, b: Float32Array<ArrayBuffer>): Promise<BenchLine> {
  const { m, k, n } = s;
  const { ops, ctx } = c.backend;
  const ta = ops.tensor(a, [m, k]);
  const tb = ops.tensor(b, [k, n]);
  try {
    const ours = (): Tensor => ops.matmul(ta, tb);
    const naive = (): Tensor => matmulWith('naive', ctx, asGpu(ta), asGpu(tb), m, k, n);
    const read = async (t: Tensor): Promise<Float32Array> => {
      const out = await ops.readF32(t);
      ops.dispose(t);
      return out;
    };
    const [[got, want], tCheck] = await timed(() => checked(c, `matmul ${matmulShape(m, k, n)}`, async () => [await read(naive()), await read(ours())]));
    expectMatmulSample(`matmul ${matmulShape(m, k, n)}: ours`, want, a, b, m, k, n, MM_TOL);
    const diff = expectClose(`matmul ${matmulShape(m, k, n)}: naive vs ours`, got, want, MM_TOL.atol, MM_TOL.rtol);
    log(`matmul-device ${matmulShape(m, k, n)}: naive and ours agree (max |diff| ${diff.toExponential(2)})`);
    const sync = (): Promise<void> => ops.flush();
    const calls = await callsPerSample(tCheck / 2, resident(() => ops.dispose(ours()), sync, 1));
    const [tOurs, tNaive] = await timePair(
      resident(() => ops.dispose(ours()), sync, calls),
      resident(() => ops.dispose(naive()), sync, calls),
      pairOpts(tCheck, calls),
    );
    return line(c, 'matmul-device', matmulShape(m, k, n), 'ours-naive', tOurs, tNaive);
  } finally {
    ops.dispose(ta);
    ops.dispose(tb);
  }
}

async function matmulInt8Device(c: Ctx, s: MatmulShape): Promise<BenchLine> {
  const { m, k, n } = s;
  const { ops } = c.backend;
  const a = randomF32(m * k, 11 + m);
  const w = randomF32(k * n, 12 + n);
  const { q, scales } = quantizeInt8(w, k, n);
  // The fp32 anchor multiplies by the dequantized weights, so both sides compute the same product.
  const deq = new Float32Array(k * n);
  const words = Math.ceil(k / 4);
  for (let col = 0; col < n; col++)
    for (let p = 0; p < k; p++) deq[p * n + col] = (((q[col * words + (p >> 2)] << (24 - 8 * (p & 3))) >> 24) * scales[col]);
  const ta = ops.tensor(a, [m, k]);
  const tw = ops.tensor(deq, [k, n]);
  const wq: Int8Weight = { q: ops.tensor(q, [n, words]), scales: ops.tensor(scales, [n]), k, n };
  try {
    const int8 = (): Tensor => ops.matmulInt8(ta, wq);
    const fp32 = (): Tensor => ops.matmul(ta, tw);
    const read = async (t: Tensor): Promise<Float32Array> => {
      const out = await ops.readF32(t);
      ops.dispose(t);
      return out;
    };
    const [[got, want], tCheck] = await timed(() => checked(c, `matmulInt8 ${matmulShape(m, k, n)}`, async () => [await read(int8()), await read(fp32())]));
    expectMatmulSample(`matmul ${matmulShape(m, k, n)} (dequantized W): ours fp32`, want, a, deq, m, k, n, MM_TOL);
    const diff = expectClose(`matmulInt8 ${matmulShape(m, k, n)}: int8 vs fp32 on dequantized W`, got, want, MM_TOL.atol, MM_TOL.rtol);
    log(`matmul-int8-device ${matmulShape(m, k, n)}: int8 and fp32 agree (max |diff| ${diff.toExponential(2)})`);
    const sync = (): Promise<void> => ops.flush();
    const calls = await callsPerSample(tCheck / 2, resident(() => ops.dispose(int8()), sync, 1));
    const [tInt8, tFp32] = await timePair(
      resident(() => ops.dispose(int8()), sync, calls),
      resident(() => ops.dispose(fp32()), sync, calls),
      pairOpts(tCheck, calls),
    );
    return line(c, 'matmul-int8-device', matmulShape(m, k, n), 'ours-fp32', tInt8, tFp32);
  } finally {
    for (const t of [ta, tw, wq.q, wq.scales]) ops.dispose(t);
  }
}

// ---- logprob -----------------------------------------------------------------------------------------------

async function logprobArray(c: Ctx, rows: number, vocab: number): Promise<BenchLine> {
  const logits = randomF32(rows * vocab, 21 + rows, 8);
  const targets = randomTargets(rows, vocab, 22 + vocab);
  const session = await ort.InferenceSession.create(logprobModel(rows, vocab), { executionProviders: ['webgpu'] });
  try {
    const runOrt = ortLogprobRunner(session, logits, targets, rows, vocab);
    const runOurs = (): Promise<Float32Array> => c.backend.logprob(logits, targets, rows, vocab);
    const [mine, t1] = await timed(() => checked(c, `logprob ${rows}x${vocab}`, runOurs));
    expectClose(`logprob ${rows}x${vocab}: ours vs a float64 host reference`, mine, logprobReference(logits, targets, rows, vocab), LP_TOL.atol, LP_TOL.rtol);
    const [theirs, t2] = await timed(runOrt);
    const diff = expectClose(`logprob ${rows}x${vocab}: ORT vs ours`, theirs, mine, LP_TOL.atol, LP_TOL.rtol);
    log(`logprob-array ${rows}x${vocab}: ORT and ours agree (max |diff| ${diff.toExponential(2)})`);
    const [ours, anchor] = await timePair(runOurs, runOrt, pairOpts(t1 + t2));
    return line(
      c, 'logprob-array', `${rows}x${vocab}`,
      `${ORT_GPU} LogSoftmax+GatherElements`, ours, anchor,
    );
  } finally {
    await session.release();
  }
}

async function logprobDevice(c: Ctx, rows: number, vocab: number): Promise<BenchLine> {
  const { ops } = c.backend;
  const hostLogits = randomF32(rows * vocab, 23 + rows, 8);
  const hostTargets = randomTargets(rows, vocab, 24 + vocab);
  const logits = ops.tensor(hostLogits, [rows, vocab]);
  const targets = ops.tensor(hostTargets, [rows]);
  try {
    const fused = (): void => {
      const { logp, lse } = ops.logprob(logits, targets);
      ops.dispose(logp);
      ops.dispose(lse);
    };
    const unfused = (): void => ops.dispose(ops.logprobUnfused(logits, targets));
    const [[got, want], tCheck] = await timed(() => checked(c, `logprob ${rows}x${vocab}`, async () => {
      const { logp, lse } = ops.logprob(logits, targets);
      const f = await ops.readF32(logp);
      ops.dispose(logp);
      ops.dispose(lse);
      const u = ops.logprobUnfused(logits, targets);
      const uf = await ops.readF32(u);
      ops.dispose(u);
      return [f, uf];
    }));
    expectClose(`logprob ${rows}x${vocab}: fused vs a float64 host reference`, got, logprobReference(hostLogits, hostTargets, rows, vocab), LP_TOL.atol, LP_TOL.rtol);
    const diff = expectClose(`logprob ${rows}x${vocab}: fused vs unfused`, got, want, LP_TOL.atol, LP_TOL.rtol);
    log(`logprob-device ${rows}x${vocab}: fused and unfused agree (max |diff| ${diff.toExponential(2)})`);
    const sync = (): Promise<void> => ops.flush();
    const calls = await callsPerSample(tCheck / 2, resident(fused, sync, 1));
    const [tFused, tUnfused] = await timePair(resident(fused, sync, calls), resident(unfused, sync, calls), pairOpts(tCheck, calls));
    return line(c, 'logprob-device', `${rows}x${vocab}`, 'ours-unfused', tFused, tUnfused);
  } finally {
    ops.dispose(logits);
    ops.dispose(targets);
  }
}

// ---- driver ------------------------------------------------------------------------------------------------

/** Starts ORT's webgpu EP once (so its start-up cost stays out of the first case) and logs its adapter. */
async function probeOrt(): Promise<void> {
  try {
    const session = await ort.InferenceSession.create(matmulModel(1, 4, 4), { executionProviders: ['webgpu'] });
    await session.run({ A: new ort.Tensor('float32', new Float32Array(4), [1, 4]), B: new ort.Tensor('float32', new Float32Array(16), [4, 4]) });
    await session.release();
    const info = (await ort.env.webgpu.device).adapterInfo;
    const name = [info.vendor, info.architecture, info.device, info.description].filter((x) => x && x.length > 0).join(' / ');
    log(`onnxruntime-web ${ort.env.versions.web ?? '?'} webgpu EP adapter: ${name}; wasm threads ${String(ort.env.wasm.numThreads)}`);
  } catch (e) {
    send('ERROR', `onnxruntime-web webgpu EP failed to start: ${errorText(e)}`);
  }
}

/** The shipped encoder (served from public/ at /encoder/) on our backend, else the small preset with random weights. */
async function encoderModel(c: Ctx): Promise<{ name: string; model: BertEncoder; weights: Map<string, Float32Array> }> {
  try {
    const e = await E5Encoder.fromFiles(c.backend.ops, await fetchEncoderFiles(new URL('/encoder/', location.href).href));
    return { name: `shipped ${e.id}`, model: e.model, weights: await e.model.weights() };
  } catch (e) {
    log(`no shipped encoder (${errorText(e)}): the small preset with random weights`);
    const config: EncoderConfig = { ...ENCODER_PRESETS.small };
    const weights = randomEncoderWeights(config, 1);
    return { name: 'small preset (random weights)', model: new BertEncoder(c.backend.ops, config, weights), weights };
  }
}

async function encoderEmbed(c: Ctx, shape: (typeof ENCODER_SHAPES)[number]): Promise<BenchLine> {
  const { name, model, weights } = await encoderModel(c);
  log(`encoder: ${name}`);
  const session = await ort.InferenceSession.create(exportEncoderOnnx(model.config, weights), { executionProviders: ['webgpu'] });
  try {
    const labels = { name: `encoder-embed-webgpu ${shape.label}`, backend: 'webgpu' as const, adapter: c.adapter, anchor: `${ORT_GPU} on the exported ONNX encoder` };
    return await encoderCase(ort, labels, model, session, shape, budgetMs, log);
  } finally {
    await session.release();
    model.dispose();
  }
}

async function run(): Promise<number> {
  const t0 = now();
  const backend = await createWebGpuBackend();
  const c: Ctx = { backend, adapter: backend.info.adapter };
  ort.env.logLevel = 'error';
  log(`our adapter: ${c.adapter}`);
  await probeOrt();

  const cases: { id: string; run: () => Promise<BenchLine> }[] = [];
  for (const s of MATMUL_SHAPES) {
    const sh = matmulShape(s.m, s.k, s.n);
    const a = randomF32(s.m * s.k, 1 + s.m);
    const b = randomF32(s.k * s.n, 2 + s.n);
    cases.push({ id: `matmul-array ${sh}`, run: () => matmulArray(c, s, a, b) });
    cases.push({ id: `matmul-device-ort ${sh}`, run: () => matmulDeviceOrt(c, s, a, b) });
    cases.push({ id: `matmul-device ${sh}`, run: () => matmulDeviceNaive(c, s, a, b) });
  }
  for (const { rows, vocab } of LOGPROB_SHAPES) {
    cases.push({ id: `logprob-array ${rows}x${vocab}`, run: () => logprobArray(c, rows, vocab) });
    cases.push({ id: `logprob-device ${rows}x${vocab}`, run: () => logprobDevice(c, rows, vocab) });
  }
  for (const s of INT8_SHAPES) cases.push({ id: `matmul-int8-device ${matmulShape(s.m, s.k, s.n)}`, run: () => matmulInt8Device(c, s) });
  for (const s of ENCODER_SHAPES) cases.push({ id: `encoder-embed-webgpu ${s.label}`, run: () => encoderEmbed(c, s) });

  const selected = filters.length === 0 ? cases : cases.filter((x) => filters.some((f) => x.id.includes(f)));
  log(`${selected.length} of ${cases.length} cases selected; budget ${budgetMs} ms per side`);
  let failed = 0;
  for (const x of selected) {
    const tc = now();
    log(`${x.id}: start`);
    try {
      const l = await x.run();
      send('LINE', JSON.stringify(l));
      log(`${x.id}: ours ${l.ours} ms, ${l.anchor} ${l.anchor_value} ms, ratio ${l.ratio} (${((now() - tc) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      send('ERROR', `${x.id}: ${errorText(e)} — case aborted`);
    }
  }
  backend.dispose();
  log(`done in ${((now() - t0) / 1000).toFixed(1)} s, ${failed} failed`);
  return failed;
}

window.addEventListener('unhandledrejection', (ev) => send('ERROR', `unhandled rejection: ${errorText(ev.reason)}`));
run().then(
  (failed) => send('DONE', JSON.stringify({ failed })),
  (e: unknown) => {
    send('ERROR', `bench page: ${errorText(e)}`);
    send('DONE', JSON.stringify({ failed: -1 }));
  },
);
