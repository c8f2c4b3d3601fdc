// Node benchmarks of the rollout engine (src/agent/rollout.ts) with the KV-cache decoder (src/model/decoder-cache.ts)
// on the cpu backend (WASM SIMD), on the default world with BM25 top-3 (built in-process, or --world DIR):
//   - rollout-batched-vs-sequential <preset> <weights>: B questions x G rollouts generated as one batch (slots =
//     B*G, default 8 x 5 = 40) against the same rollouts one sequence at a time (slots = 1). Same seed, and the
//     rollouts must come out identical (per-sequence random streams), so both sides do exactly the same work.
//     `ours`/`anchor_value`: ms per generated token (wall time of the whole rollout / policy tokens).
//   - policy-train-step <preset>: one SFT step on 8 x 512 tokens (loss on 10% of them) with logits only for the
//     loss rows vs logits for every position; sizes the warm start (tokens/s x 30 min).
//   - rollout-int8-vs-fp32 <preset>: the batched rollout with int8 weights against fp32 weights (ms per generated
//     token), plus their agreement on greedy outputs: greedy rollouts with both (share of identical sequences,
//     mean share of each sequence before the first difference) and the int8 argmax on the fp32 greedy
//     trajectories, teacher-forced (top-1 agreement on the generated tokens).
//   - decode-step <preset> <weights>: one decode step of B slots (each appends one token to a 256-token cache and
//     samples the next) against the same step of one slot, ms per generated token: the engine's share of a
//     rollout without prefill, retrieval or tokenization (fastest of many steps, the sides in alternating blocks).
//   - decode-step-int8-vs-fp32 <preset> batch B|1: that step with int8 weights against fp32 weights.
//   - grpo-update <preset>: the update phase of a training step on the B x G batched rollouts (reference log-probs
//     from a frozen copy, then grpoUpdate) as the trainer runs it (reference logits only at the policy's tokens, old
//     log-probs taken from the gradient pass) against the same update with the reference scored at every response
//     token and the old log-probs recomputed in a separate fp32 forward first. Both give the same update (the policy
//     starts as the reference's copy and lr is 0, so every pair's losses must agree); ms per update.
// Where the time goes (profiled on the 2-core machine, small preset, vocab 8000; see also decode-step):
//   - batch-40 decode step: attention over the 40 per-sequence KV caches (each token reads its own cache: 4 layers
//     x length x 1 KiB; 40 caches of a few hundred tokens overflow L2/L3, so it is bound by memory, and batching
//     saves nothing on it), the LM head (40 x 128 x 8000), the 24 layer matmuls, then the pick (softmax sampling
//     over 40 x 8000) -- before this work the pick ran the TypeScript reference (~30% of the step), attention ran
//     pair by pair (~25%), int8 matmuls ran the TypeScript reference, and the K/V writes cost 320 small ops a step.
//   - one-sequence step: ~100 op calls of microseconds each (GEMVs of cache-resident weights: 2 MB int8 / 8 MB
//     fp32 fit L3, so GEMV already runs at ~1/2 of GEMM speed) plus the 128 x 8000 GEMV.
//   - a rollout also prefills as many prompt and observation tokens as it generates (batched matmuls in both modes).
//   So on 2 cores batching gains ~2x on the matmuls and amortizes per-op overhead, but not attention or prefill:
//   the 10x of the issue is out of reach for a model this small (it comes from weight-bandwidth-bound GEMV, which
//   a 2M-parameter policy does not have).
// Timing on a shared 2-core machine: the rollout cases run each side --reps times (default 2), interleaved, and
// report the fastest run of each; the lines carry the process CPU time per token (cpu_ms_per_token, both threads)
// and the 1-minute load average before and after, so a run disturbed by other processes can be told apart.
// With random weights (the default; --checkpoint is for a trained policy) the model rarely stops on its own, so
// turns run to the per-turn limit and get the invalid-action observation: the work is decoding plus observation
// prefill, as in a real rollout, but the greedy agreement of near-uniform logits is a pessimistic bound.
// --backend webgpu runs the same cases on the WebGPU backend (in Node: the `webgpu` package; on these machines a
// software Vulkan driver, so its timings show the per-dispatch cost of a GPU-style backend, not a GPU's speed);
// the cpu-only parts (the train step, the fused decode-step paths) may be slower or refused there.
// Run: node scripts/node-run.mjs src/bench/rollout-bench.ts [--backend cpu|webgpu] [--preset small|tiny|base] [--questions 8] [--group 5]
//      [--turn-tokens 32] [--turns 4] [--threads 1|2] [--world DIR] [--checkpoint FILE] [--filter SUBSTR,...]
//      [--reps N]
// One JSON line per case on stdout ({case, shape, backend, adapter, ours, anchor, anchor_value, ratio, unit, reps,
// ...extensions}); progress on stderr. Returns 1 when any case failed.
import { bm25PassageRetriever, type PassageRetriever, rollout, type Rollout, type RolloutOptions, type RolloutQuestion } from '../agent/rollout.ts';
import { buildWorldTokenizer } from '../agent/sft-data.ts';
import { createBackend } from '../engine/create.ts';
import { AdamW } from '../engine/optim.ts';
import { Rng } from '../engine/rng.ts';
import { Tape } from '../engine/tape.ts';
import type { Backend } from '../engine/types.ts';
import { KvDecoder, argmaxRows, type DecoderWeights } from '../model/decoder-cache.ts';
import { checkpointTokenizerSlots, createPolicy, loadPolicy, policyBinding, type PolicyPresetName, POLICY_PRESETS, worldHash } from '../model/policy.ts';
import type { Transformer } from '../model/transformer.ts';
import { DEFAULT_GRPO } from '../rl/grpo.ts';
import { grpoUpdate, sequenceLogprobs, type UpdateSequence } from '../rl/update.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import { buildWorld } from '../world/build.ts';
import { corpusRecords, readWorld } from '../world/format.ts';
import { loadSources } from '../world/sources.ts';
import type { CorpusRecord, Question } from '../world/types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from '../world/types.ts';
import { type BenchLine, errorText, sig } from './harness.ts';

const log = (msg: string): void => {
  process.stderr.write(`[bench rollout] ${msg}\n`);
};
const emit = (line: BenchLine): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

interface Args {
  backend: 'cpu' | 'webgpu';
  preset: PolicyPresetName;
  questions: number;
  group: number;
  turnTokens: number;
  turns: number;
  threads: 1 | 2 | undefined;
  world: string | null;
  checkpoint: string | null;
  filters: string[];
  reps: number;
}

function parseArgs(args: readonly string[]): Args {
  const o: Args = { backend: 'cpu', preset: 'small', questions: 8, group: 5, turnTokens: 32, turns: 4, threads: undefined, world: null, checkpoint: null, filters: [], reps: 2 };
  const int = (v: string | undefined, name: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`rollout-bench: ${name} must be a positive integer, got ${v}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = (): string | undefined => args[++i];
    if (a === '--backend') {
      const b = v();
      if (b !== 'cpu' && b !== 'webgpu') throw new Error(`rollout-bench: --backend must be cpu or webgpu, got ${b}`);
      o.backend = b;
    } else if (a === '--preset') {
      const p = v();
      if (!p || !(p in POLICY_PRESETS)) throw new Error(`rollout-bench: --preset must be one of ${Object.keys(POLICY_PRESETS).join(', ')}`);
      o.preset = p as PolicyPresetName;
    } else if (a === '--questions') o.questions = int(v(), a);
    else if (a === '--group') o.group = int(v(), a);
    else if (a === '--turn-tokens') o.turnTokens = int(v(), a);
    else if (a === '--turns') o.turns = int(v(), a);
    else if (a === '--threads') {
      const t = int(v(), a);
      if (t !== 1 && t !== 2) throw new Error('rollout-bench: --threads must be 1 or 2');
      o.threads = t;
    } else if (a === '--world') o.world = v() ?? null;
    else if (a === '--checkpoint') o.checkpoint = v() ?? null;
    else if (a === '--filter') o.filters = (v() ?? '').split(',').map((f) => f.trim()).filter((f) => f.length > 0);
    else if (a === '--reps') o.reps = int(v(), a);
    else if (a === '--budget-ms') v(); // accepted for scripts/bench.mjs; --reps sets the repetitions here
    else throw new Error(`rollout-bench: unknown argument ${a}`);
  }
  return o;
}

interface Setup {
  backend: Backend;
  tok: PolicyTokenizer;
  corpus: CorpusRecord[];
  retriever: PassageRetriever;
  questions: RolloutQuestion[];
  model: Transformer;
}

/** The benchmarked policy: the --checkpoint (bound to this world and tokenizer), else random weights (seed 1). */
async function benchPolicy(backend: Backend, o: Args, tok: PolicyTokenizer, corpus: readonly CorpusRecord[]): Promise<Transformer> {
  if (!o.checkpoint) return createPolicy(backend.ops, o.preset, tok.size, 1);
  const { readFileSync } = (await import(/* @vite-ignore */ 'node:fs')) as typeof import('node:fs');
  return loadPolicy(backend.ops, readFileSync(o.checkpoint), o.checkpoint, { expect: policyBinding(tok, worldHash(corpus)) }).model;
}

/** Entity slots of the --checkpoint's tokenizer (0 without one). */
async function checkpointSlots(o: Args): Promise<number> {
  if (!o.checkpoint) return 0;
  const { readFileSync } = (await import(/* @vite-ignore */ 'node:fs')) as typeof import('node:fs');
  return checkpointTokenizerSlots(readFileSync(o.checkpoint), o.checkpoint);
}

async function setup(o: Args): Promise<Setup> {
  const backend = await createBackend(o.backend, o.threads ? { threads: o.threads } : {});
  let corpus: CorpusRecord[];
  let all: Question[];
  let train: Question[];
  if (o.world) {
    const w = readWorld(o.world);
    corpus = w.corpus;
    all = SPLITS.flatMap((s) => PARTS.flatMap((p) => w.questions[s][p]));
    train = TRAINING_SPLITS.flatMap((s) => w.questions[s].train);
  } else {
    const size = o.preset === 'tiny' ? 'tiny' : 'default';
    log(`building the ${size} world (seed 0)`);
    const w = buildWorld({ seed: 0, size, sources: loadSources() }).world;
    corpus = corpusRecords(w);
    all = SPLITS.flatMap((s) => PARTS.flatMap((p) => w.questions[s][p]));
    train = TRAINING_SPLITS.flatMap((s) => w.questions[s].train);
  }
  const tok = buildWorldTokenizer(corpus, all, { slots: await checkpointSlots(o) });
  // Half one-hop (NQ-like), half two-hop (HotpotQA-like) training questions.
  const nq = train.filter((q) => q.hops === 1);
  const multi = train.filter((q) => q.hops > 1);
  const half = Math.ceil(o.questions / 2);
  const picked = [...nq.slice(0, half), ...multi.slice(0, o.questions - half)];
  const questions = picked.map((q) => ({ id: q.id, question: q.question }));
  const model = await benchPolicy(backend, o, tok, corpus);
  log(`${backend.info.adapter}; policy ${o.checkpoint ?? `${o.preset} (random weights)`}: ${model.parameterCount} parameters, vocab ${tok.size}`);
  return { backend, tok, corpus, retriever: bm25PassageRetriever(corpus), questions, model };
}

interface Timed {
  rollouts: Rollout[];
  ms: number;
  /** CPU time of the process (user + system, both threads) over the rollout. */
  cpuMs: number;
  generated: number;
  observation: number;
  steps: number;
}

async function timedRollout(s: Setup, o: Args, slots: number, weights: DecoderWeights, temperature: number): Promise<Timed> {
  const ctx = Math.min(s.model.config.context, 2048);
  const dec = await KvDecoder.create(s.model, { slots, weights, context: ctx });
  const opts: RolloutOptions = { groupSize: o.group, seed: 7, temperature, topP: 1, maxTurnTokens: o.turnTokens, maxTurns: o.turns };
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await rollout(dec, s.tok, s.retriever, s.questions, opts);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { rollouts: r.rollouts, ms, cpuMs: (c.user + c.system) / 1000, generated: r.stats.generatedTokens, observation: r.stats.observationTokens, steps: r.stats.steps };
  } finally {
    dec.dispose();
  }
}

const sameRollouts = (a: Rollout[], b: Rollout[]): boolean =>
  a.length === b.length && a.every((r, i) => r.ids.length === b[i].ids.length && r.ids.every((t, j) => t === b[i].ids[j]));

function line(s: Setup, fields: { case: string; shape: string; anchor: string }, ours: number, anchor: number, extra: Record<string, unknown>): BenchLine & Record<string, unknown> {
  return {
    case: fields.case,
    shape: fields.shape,
    backend: s.backend.info.kind,
    adapter: s.backend.info.adapter,
    ours: sig(ours),
    anchor: fields.anchor,
    anchor_value: sig(anchor),
    ratio: sig(anchor / ours),
    unit: 'ms',
    reps: { ours: 1, anchor: 1 },
    ...extra,
  };
}

const perToken = (t: Timed): number => t.ms / Math.max(1, t.generated);
const cpuPerToken = (t: Timed): number => t.cpuMs / Math.max(1, t.generated);
const tps = (t: Timed): number => sig((1000 * t.generated) / t.ms);

/** The machine's 1-minute load average (other processes compete for the 2 cores; read it with the timings). */
async function loadAverage(): Promise<number | null> {
  try {
    const os = (await import(/* @vite-ignore */ 'node:os')) as typeof import('node:os');
    return sig(os.loadavg()[0]);
  } catch {
    return null;
  }
}

/** The fastest of the runs (least disturbed by other processes), with the CPU time of that run. */
const fastest = (runs: Timed[]): Timed => runs.reduce((a, b) => (b.ms < a.ms ? b : a));

/** `reps` runs of each side, interleaved (a, b, a, b, ...), so a burst of outside load hits both sides alike. */
async function interleaved(reps: number, a: () => Promise<Timed>, b: () => Promise<Timed>): Promise<[Timed[], Timed[]]> {
  const ra: Timed[] = [];
  const rb: Timed[] = [];
  for (let r = 0; r < reps; r++) {
    ra.push(await a());
    rb.push(await b());
  }
  return [ra, rb];
}

async function batchedVsSequential(s: Setup, o: Args, weights: DecoderWeights, cache: Map<string, Timed>): Promise<BenchLine> {
  const B = s.questions.length * o.group;
  const load0 = await loadAverage();
  const [bs, ss] = await interleaved(
    o.reps,
    async () => {
      const t = await timedRollout(s, o, B, weights, 1);
      log(`  batched (${B} slots, ${weights}): ${t.generated} generated + ${t.observation} observation tokens, ${t.steps} steps, ${(t.ms / 1000).toFixed(1)} s (cpu ${(t.cpuMs / 1000).toFixed(1)} s)`);
      return t;
    },
    async () => {
      const t = await timedRollout(s, o, 1, weights, 1);
      log(`  one at a time (${weights}): ${t.generated} generated tokens, ${t.steps} steps, ${(t.ms / 1000).toFixed(1)} s (cpu ${(t.cpuMs / 1000).toFixed(1)} s)`);
      return t;
    },
  );
  const batched = fastest(bs);
  const seq = fastest(ss);
  cache.set(weights, batched);
  if (![...bs, ...ss].every((t) => sameRollouts(batched.rollouts, t.rollouts))) throw new Error('batched and one-at-a-time rollouts differ (same seed): not the same work');
  return line(
    s,
    {
      case: `rollout-batched-vs-sequential ${o.preset} ${weights}`,
      shape: `${s.questions.length}x${o.group} rollouts, ${o.turns} turns x ${o.turnTokens} tokens, ms per generated token`,
      anchor: 'the same rollouts one sequence at a time (slots = 1)',
    },
    perToken(batched),
    perToken(seq),
    {
      reps: { ours: o.reps, anchor: o.reps },
      batch: B, tokens: batched.generated, observation_tokens: batched.observation, tokens_per_s: { ours: tps(batched), anchor: tps(seq) },
      cpu_ms_per_token: { ours: sig(cpuPerToken(batched)), anchor: sig(cpuPerToken(seq)), ratio: sig(cpuPerToken(seq) / cpuPerToken(batched)) },
      load_average: { before: load0, after: await loadAverage() },
    },
  );
}

/** Top-1 agreement of int8 with fp32 over the generated tokens of fp32 greedy rollouts, teacher-forced in lockstep. */
async function teacherForcedAgreement(s: Setup, rollouts: Rollout[]): Promise<{ agree: number; total: number; relL2: number }> {
  const seqs = rollouts.map((r) => ({ ids: Int32Array.from([...r.promptIds, ...r.ids]), mask: Uint8Array.from([...new Uint8Array(r.promptIds.length), ...r.mask]) }));
  const ctx = Math.max(...seqs.map((q) => q.ids.length));
  const f = await KvDecoder.create(s.model, { slots: seqs.length, weights: 'fp32', context: ctx });
  const q = await KvDecoder.create(s.model, { slots: seqs.length, weights: 'int8', context: ctx });
  let agree = 0;
  let total = 0;
  let d2 = 0;
  let n2 = 0;
  try {
    const V = s.model.config.vocab;
    for (let i = 0; i + 1 < ctx; i++) {
      const rows = seqs.map((x, slot) => ({ x, slot })).filter(({ x }) => x.ids.length > i + 1);
      const chunks = rows.map(({ x, slot }) => ({ slot, ids: [x.ids[i]] }));
      const lf = s.backend.ops.readF32(f.forward(chunks, { logits: true }));
      const lq = s.backend.ops.readF32(q.forward(chunks, { logits: true }));
      const [xf, xq] = [await lf, await lq];
      const af = argmaxRows(xf, rows.length, V).tokens;
      const aq = argmaxRows(xq, rows.length, V).tokens;
      rows.forEach(({ x }, r) => {
        if (!x.mask[i + 1]) return;
        total++;
        if (af[r] === aq[r]) agree++;
        for (let c = r * V; c < (r + 1) * V; c++) {
          d2 += (xq[c] - xf[c]) ** 2;
          n2 += xf[c] ** 2;
        }
      });
    }
  } finally {
    f.dispose();
    q.dispose();
  }
  return { agree, total, relL2: Math.sqrt(d2 / Math.max(n2, 1e-30)) };
}

async function int8VsFp32(s: Setup, o: Args, cache: Map<string, Timed>): Promise<BenchLine> {
  const B = s.questions.length * o.group;
  const load0 = await loadAverage();
  let i8 = cache.get('int8');
  let f32 = cache.get('fp32');
  if (!i8 || !f32) {
    const [ri, rf] = await interleaved(o.reps, () => timedRollout(s, o, B, 'int8', 1), () => timedRollout(s, o, B, 'fp32', 1));
    [i8, f32] = [fastest(ri), fastest(rf)];
  }
  const gi = await timedRollout(s, o, B, 'int8', 0);
  const gf = await timedRollout(s, o, B, 'fp32', 0);
  let same = 0;
  let prefix = 0;
  gi.rollouts.forEach((r, i) => {
    const g = gf.rollouts[i];
    let j = 0;
    while (j < r.ids.length && j < g.ids.length && r.ids[j] === g.ids[j]) j++;
    if (j === r.ids.length && j === g.ids.length) same++;
    prefix += j / Math.max(1, Math.max(r.ids.length, g.ids.length));
  });
  const tf = await teacherForcedAgreement(s, gf.rollouts);
  const agreement = {
    greedy_sequences_identical: sig(same / gi.rollouts.length),
    greedy_prefix_share: sig(prefix / gi.rollouts.length),
    teacher_forced_top1: sig(tf.agree / Math.max(1, tf.total)),
    teacher_forced_tokens: tf.total,
    logits_rel_l2: sig(tf.relL2),
  };
  log(`  greedy agreement int8 vs fp32: ${JSON.stringify(agreement)}`);
  return line(
    s,
    {
      case: `rollout-int8-vs-fp32 ${o.preset}`,
      shape: `${s.questions.length}x${o.group} rollouts batched, ${o.turns} turns x ${o.turnTokens} tokens, ms per generated token`,
      anchor: 'the same batched rollout with fp32 weights',
    },
    perToken(i8),
    perToken(f32),
    {
      reps: { ours: o.reps, anchor: o.reps },
      batch: B, tokens_per_s: { ours: tps(i8), anchor: tps(f32) },
      cpu_ms_per_token: { ours: sig(cpuPerToken(i8)), anchor: sig(cpuPerToken(f32)), ratio: sig(cpuPerToken(f32) / cpuPerToken(i8)) },
      agreement, weights: o.checkpoint ? 'checkpoint' : 'random',
      load_average: { before: load0, after: await loadAverage() },
    },
  );
}

/**
 * Decode steps (every slot appends one token to a `cached`-token cache and samples the next) of two decoders, timed
 * alone, in alternating blocks of steps (with several blocks a burst of outside load hits both alike; within a
 * block a side runs cache-warm, as it would on its own): the engine's part of a rollout
 * without prefill, retrieval or tokenization. Per side: the fastest of `reps` x 8 steps (wall, ms per step) and the
 * mean process CPU time per step.
 */
async function decodeStepPair(
  s: Setup, a: { slots: number; weights: DecoderWeights }, b: { slots: number; weights: DecoderWeights }, cached: number, reps: number,
  blocks: number,
): Promise<[{ ms: number; cpuMs: number }, { ms: number; cpuMs: number }]> {
  const V = s.model.config.vocab;
  const ctx = Math.min(s.model.config.context, 2048);
  const decs = [await KvDecoder.create(s.model, { slots: a.slots, weights: a.weights, context: ctx }), await KvDecoder.create(s.model, { slots: b.slots, weights: b.weights, context: ctx })];
  try {
    const toks = decs.map((d) => {
      d.forward(Array.from({ length: d.slots }, (_, slot) => ({ slot, ids: Array.from({ length: cached }, (_, i) => (i * 31 + slot * 7) % V) })), { logits: false });
      return Array.from({ length: d.slots }, (_, i) => i % V);
    });
    const best = [Infinity, Infinity];
    const cpu = [0, 0];
    const per = Math.max(1, Math.round((reps * 8) / blocks));
    const steps = per * blocks;
    // `blocks` blocks of per + 1 steps per side in turn (the first of each block warms that side's caches and is not
    // counted).
    for (let r = 0; r < blocks; r++)
      for (let side = 0; side < 2; side++)
        for (let i = 0; i <= per; i++) {
          const d = decs[side];
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const res = await d.step(toks[side].map((t, slot) => ({ slot, ids: [t], uniform: (((r * (per + 1) + i) * 0.618 + slot * 0.377) % 1) })), { temperature: 1, topP: 1 });
          const ms = performance.now() - t0;
          const c = process.cpuUsage(c0);
          toks[side] = Array.from(res.tokens);
          if (i === 0) continue;
          best[side] = Math.min(best[side], ms);
          cpu[side] += (c.user + c.system) / 1000 / steps;
        }
    return [{ ms: best[0], cpuMs: cpu[0] }, { ms: best[1], cpuMs: cpu[1] }];
  } finally {
    for (const d of decs) d.dispose();
  }
}

/** decode-step <preset> <weights>: one batched step (B slots) against one single-slot step, per generated token. */
async function decodeStepCase(s: Setup, o: Args, weights: DecoderWeights): Promise<BenchLine> {
  const B = s.questions.length * o.group;
  const cached = 256;
  const load0 = await loadAverage();
  const reps = Math.max(4, o.reps * 2);
  // One block per side: the one-slot side runs all its steps cache-warm, as in a one-at-a-time rollout (a batch-40
  // step streams ~40 MB of KV cache through L3 and would evict it).
  const [batched, single] = await decodeStepPair(s, { slots: B, weights }, { slots: 1, weights }, cached, reps, 1);
  return line(
    s,
    {
      case: `decode-step ${o.preset} ${weights}`,
      shape: `${B} slots vs 1 slot, ${cached} cached tokens, vocab ${s.model.config.vocab}, sampled (T=1), ms per generated token`,
      anchor: 'the same step for one slot (slots = 1)',
    },
    batched.ms / B,
    single.ms,
    {
      reps: { ours: reps * 8, anchor: reps * 8 }, batch: B, ms_per_step: { ours: sig(batched.ms), anchor: sig(single.ms) },
      tokens_per_s: { ours: sig((1000 * B) / batched.ms), anchor: sig(1000 / single.ms) },
      cpu_ms_per_token: { ours: sig(batched.cpuMs / B), anchor: sig(single.cpuMs), ratio: sig((single.cpuMs * B) / batched.cpuMs) },
      load_average: { before: load0, after: await loadAverage() },
    },
  );
}

/** decode-step-int8-vs-fp32 <preset>: the batched decode step with int8 weights against fp32 weights. */
async function decodeStepInt8(s: Setup, o: Args, slots: number): Promise<BenchLine> {
  const cached = 256;
  const load0 = await loadAverage();
  const reps = Math.max(4, o.reps * 2);
  const [i8, f32] = await decodeStepPair(s, { slots, weights: 'int8' }, { slots, weights: 'fp32' }, cached, reps, 4);
  return line(
    s,
    {
      case: `decode-step-int8-vs-fp32 ${o.preset} batch ${slots}`,
      shape: `${slots} slots, ${cached} cached tokens, vocab ${s.model.config.vocab}, sampled (T=1), ms per step`,
      anchor: 'the same step with fp32 weights',
    },
    i8.ms,
    f32.ms,
    {
      reps: { ours: reps * 8, anchor: reps * 8 }, batch: slots,
      cpu_ms_per_step: { ours: sig(i8.cpuMs), anchor: sig(f32.cpuMs), ratio: sig(f32.cpuMs / i8.cpuMs) },
      load_average: { before: load0, after: await loadAverage() },
    },
  );
}

/**
 * One SFT training step of the preset (forward, backward, AdamW) on 8 x 512 tokens (the demonstrations' mean
 * length) with the loss on 10% of the positions (the Actor's own tokens; judge/trim train one token): logits only
 * for the loss rows (Transformer.forward `rows`) against logits for every position (lmLoss-style). Sizes the
 * warm start: tokens/s x 1800 s is what 30 minutes can train on.
 */
async function trainStep(s: Setup, o: Args): Promise<BenchLine> {
  const ops = s.backend.ops;
  const model = createPolicy(ops, o.preset, s.tok.size, 2);
  const opt = new AdamW(ops, model.params, { lr: 1e-4 });
  const [B, T] = [8, 512];
  const rows = Int32Array.from({ length: (B * T) / 10 }, (_, i) => i * 10 + 3);
  const run = async (useRows: boolean, seed: number): Promise<number> => {
    const ids = new Rng(seed).intArray(B * T, s.tok.size);
    const t0 = performance.now();
    const tape = new Tape(ops);
    const logits = model.forward(tape, ids, B, T, useRows ? { rows } : {});
    const n = useRows ? rows.length : B * T;
    const targets = new Int32Array(n);
    const weights = new Float32Array(n);
    rows.forEach((r, i) => {
      const at = useRows ? i : r;
      targets[at] = ids[r + 1];
      weights[at] = 1 / rows.length;
    });
    const tt = ops.tensor(targets, [n]);
    const wt = ops.tensor(weights, [n]);
    tape.adopt(tt, wt);
    const loss = tape.nll(logits, tt, wt);
    await ops.readF32(loss.value);
    tape.backward(loss);
    tape.dispose();
    opt.update();
    return performance.now() - t0;
  };
  try {
    await run(true, 0);
    await run(false, 0);
    const ours: number[] = [];
    const anchor: number[] = [];
    for (let r = 1; r <= 3; r++) {
      ours.push(await run(true, r));
      anchor.push(await run(false, r));
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];
    const [mo, ma] = [med(ours), med(anchor)];
    return {
      ...line(
        s,
        {
          case: `policy-train-step ${o.preset}`,
          shape: `${B}x${T} tokens, loss on ${rows.length} positions, ms per step`,
          anchor: 'the same step with logits for every position',
        },
        mo,
        ma,
        { parameters: model.parameterCount, tokens_per_s: { ours: sig((1000 * B * T) / mo), anchor: sig((1000 * B * T) / ma) } },
      ),
      reps: { ours: 3, anchor: 3 },
    };
  } finally {
    opt.dispose();
    model.dispose();
  }
}

/** See the header (grpo-update). */
async function grpoUpdateCase(s: Setup, o: Args): Promise<BenchLine> {
  const ops = s.backend.ops;
  const B = s.questions.length * o.group;
  const { rollouts } = await timedRollout(s, o, B, 'fp32', 1);
  // The policy starts as a copy of the reference (as in training); lr 0 keeps the weights fixed, so every update of
  // either side does the same arithmetic and the two sides' losses must agree.
  const policy = await benchPolicy(s.backend, o, s.tok, s.corpus);
  const opt = new AdamW(ops, policy.params, { lr: 0 });
  const rng = new Rng(4);
  const base = rollouts.map((r) => {
    const ids = new Int32Array(r.promptIds.length + r.ids.length);
    ids.set(r.promptIds);
    ids.set(r.ids, r.promptIds.length);
    return { ids, promptLength: r.promptIds.length, mask: r.mask, advantage: rng.next() < 0.5 ? 1 : -1 };
  });
  // asTrainer: the trainer's way; else the previous way (the anchor).
  const run = async (asTrainer: boolean): Promise<{ ms: number; loss: number }> => {
    const t0 = performance.now();
    const ref = await sequenceLogprobs(ops, s.model, asTrainer ? base : base.map(({ mask: _m, ...x }) => x), { entropy: false });
    let seqs: UpdateSequence[] = base.map((x, i) => ({ ...x, refLogprobs: ref.logprobs[i] }));
    if (!asTrainer) {
      const old = await sequenceLogprobs(ops, policy, seqs, { entropy: false });
      seqs = seqs.map((x, i) => ({ ...x, oldLogprobs: old.logprobs[i] }));
    }
    const r = await grpoUpdate(ops, policy, opt, seqs, DEFAULT_GRPO);
    return { ms: performance.now() - t0, loss: r.loss };
  };
  try {
    const ours: number[] = [];
    const anchor: number[] = [];
    for (let k = 0; k < 3; k++) {
      const a = await run(true);
      const b = await run(false);
      if (!(Math.abs(a.loss - b.loss) <= 1e-6 * Math.max(1, Math.abs(b.loss)))) throw new Error(`the two updates differ: loss ${a.loss} against ${b.loss}`);
      ours.push(a.ms);
      anchor.push(b.ms);
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];
    const policyTokens = base.reduce((n, x) => n + x.mask.reduce((m, v) => m + v, 0), 0);
    const responseTokens = base.reduce((n, x) => n + x.mask.length, 0);
    return {
      ...line(
        s,
        {
          case: `grpo-update ${o.preset}`,
          shape: `${B} trajectories, ${policyTokens} policy of ${responseTokens} response tokens, ms per update`,
          anchor: 'the same update with reference logits at every response token and a separate old-log-prob forward',
        },
        med(ours),
        med(anchor),
        { sequences: B, policy_tokens: policyTokens, response_tokens: responseTokens },
      ),
      reps: { ours: 3, anchor: 3 },
    };
  } finally {
    opt.dispose();
    policy.dispose();
  }
}

export async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  const s = await setup(o);
  const cache = new Map<string, Timed>();
  const cases: { name: string; run: () => Promise<BenchLine> }[] = [
    { name: `policy-train-step ${o.preset}`, run: () => trainStep(s, o) },
    { name: `grpo-update ${o.preset}`, run: () => grpoUpdateCase(s, o) },
    { name: `rollout-batched-vs-sequential ${o.preset} fp32`, run: () => batchedVsSequential(s, o, 'fp32', cache) },
    { name: `rollout-batched-vs-sequential ${o.preset} int8`, run: () => batchedVsSequential(s, o, 'int8', cache) },
    { name: `rollout-int8-vs-fp32 ${o.preset}`, run: () => int8VsFp32(s, o, cache) },
    { name: `decode-step ${o.preset} int8`, run: () => decodeStepCase(s, o, 'int8') },
    { name: `decode-step ${o.preset} fp32`, run: () => decodeStepCase(s, o, 'fp32') },
    { name: `decode-step-int8-vs-fp32 ${o.preset} batch ${s.questions.length * o.group}`, run: () => decodeStepInt8(s, o, s.questions.length * o.group) },
    { name: `decode-step-int8-vs-fp32 ${o.preset} batch 1`, run: () => decodeStepInt8(s, o, 1) },
  ];
  const selected = o.filters.length === 0 ? cases : cases.filter((c) => o.filters.some((f) => c.name.includes(f)));
  // Warm-up before the first rollout case: compile paths, touch the caches' memory.
  if (selected.some((c) => c.name.startsWith('rollout'))) await timedRollout(s, { ...o, turns: 1, turnTokens: 4 }, s.questions.length * o.group, 'fp32', 1);
  let failed = 0;
  for (const c of selected) {
    const t0 = performance.now();
    log(`${c.name}`);
    try {
      const l = await c.run();
      emit(l);
      log(`${c.name}: ours ${l.ours} ms, anchor ${l.anchor_value} ms, ratio ${l.ratio} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      log(`ERROR ${c.name}: ${errorText(e)} — case aborted`);
    }
  }
  s.model.dispose();
  s.backend.dispose();
  return failed > 0 ? 1 : 0;
}
