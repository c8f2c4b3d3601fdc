// `encoder train|export-onnx`: trains the E5-style encoder on a world, or writes an encoder as an ONNX file.
// Progress on stderr; the last stdout line is one JSON object.
//
//   encoder train [--world DIR] [--seed N] [--preset small|tiny] [--steps N] [--batch N] [--lr X] [--dtype f16|f32] --out DIR
//     DIR/model.safetensors (F16 by default, HF BertModel names), DIR/config.json (HF BertConfig), DIR/tokenizer.json,
//     DIR/train-log.jsonl. Without --world the default world (seed 0) is built in memory first.
//   encoder export-onnx [--encoder DIR] --out FILE.onnx
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBackend } from '../engine/create.ts';
import { readEncoderDir, SHIPPED_ENCODER_DIR } from '../model/encoder-files-node.ts';
import { configToHf, ENCODER_PRESETS, type EncoderPreset } from '../model/encoder.ts';
import { trainEncoder } from '../model/encoder-train.ts';
import { exportEncoderOnnx } from '../model/onnx-export.ts';
import { buildWorld } from '../world/build.ts';
import { corpusRecords, readWorld } from '../world/format.ts';
import { loadSources } from '../world/sources.ts';
import { TRAINING_SPLITS, type CorpusRecord, type Question } from '../world/types.ts';
import { integerOption, option } from './args.ts';

const USAGE = [
  'encoder train [--world DIR] [--seed N] [--preset small|tiny] [--steps N] [--batch N] [--lr X] [--dtype f16|f32] --out DIR',
  '          train the WordPiece vocabulary and the E5-style encoder contrastively on the world',
  '  encoder export-onnx [--encoder DIR] --out FILE.onnx   write the encoder graph with its weights as ONNX',
].join('\n');

function fail(msg: string): number {
  console.error(`encoder: ${msg}\nusage: ${USAGE}`);
  return 2;
}

export async function encoder(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'train') return await train(rest);
    if (sub === 'export-onnx') return await exportOnnx(rest);
  } catch (e) {
    console.error(`encoder ${sub}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return fail(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
}

async function train(args: string[]): Promise<number> {
  const out = option(args, 'out');
  if (!out) return fail('train needs --out DIR');
  const preset = (option(args, 'preset') ?? 'small') as EncoderPreset;
  if (!(preset in ENCODER_PRESETS)) return fail(`--preset must be one of ${Object.keys(ENCODER_PRESETS).join(', ')}, got "${preset}"`);
  const seed = integerOption(args, 'seed', 0);
  if (seed > 0xffffffff) return fail(`--seed must be at most 4294967295, got ${seed}`);
  const steps = integerOption(args, 'steps', undefined, 1);
  const batchSize = integerOption(args, 'batch', undefined, 2);
  const lrText = option(args, 'lr');
  const lr = lrText === undefined ? undefined : Number(lrText);
  if (lr !== undefined && !(lr > 0 && lr < 1)) return fail(`--lr must be a number in (0, 1), got "${lrText}"`);
  const dtype = (option(args, 'dtype') ?? 'f16').toUpperCase();
  if (dtype !== 'F16' && dtype !== 'F32') return fail(`--dtype must be f16 or f32, got "${dtype.toLowerCase()}"`);
  const worldDir = option(args, 'world');
  const t0 = performance.now();

  let corpus: CorpusRecord[];
  let questions: Question[];
  if (worldDir) {
    const w = readWorld(worldDir);
    corpus = w.corpus;
    questions = TRAINING_SPLITS.flatMap((s) => w.questions[s].train);
    console.error(`encoder: world ${worldDir}: ${corpus.length} passages, ${questions.length} training questions`);
  } else {
    console.error('encoder: no --world: building the default world (seed 0) in memory');
    const { world: w } = buildWorld({ seed: 0, size: 'default', sources: loadSources() });
    corpus = corpusRecords(w);
    questions = TRAINING_SPLITS.flatMap((s) => w.questions[s].train);
  }

  const backend = await createBackend('cpu');
  console.error(`encoder: backend ${backend.info.adapter}${backend.info.fallbackReason ? ` (fallback: ${backend.info.fallbackReason})` : ''}`);
  mkdirSync(out, { recursive: true });
  const logLines: string[] = [];
  try {
    const r = await trainEncoder(backend.ops, corpus, questions, {
      preset,
      seed,
      steps,
      batchSize,
      lr,
      onInfo: (l) => console.error(`encoder: ${l}`),
      onLog: (e) => {
        logLines.push(JSON.stringify(e));
        console.error(`encoder: step ${e.step} epoch ${e.epoch} loss ${e.loss.toFixed(4)} in-batch acc ${e.in_batch_acc.toFixed(3)} lr ${e.lr} (${e.seconds.toFixed(1)} s)`);
      },
    });
    const command = `npm run cli -- encoder train${worldDir ? ` --world ${worldDir}` : ''} --preset ${preset} --seed ${seed}${steps !== undefined ? ` --steps ${steps}` : ''}${batchSize !== undefined ? ` --batch ${batchSize}` : ''}${lr !== undefined ? ` --lr ${lr}` : ''}${dtype !== 'F16' ? ` --dtype ${dtype.toLowerCase()}` : ''} --out ${out}`;
    const model = await r.encoder.model.toSafetensors({ preset, seed: String(seed), steps: String(r.steps), producer: 'search-r2-playground encoder train' }, dtype);
    writeFileSync(join(out, 'model.safetensors'), model);
    writeFileSync(join(out, 'config.json'), `${JSON.stringify(configToHf(r.config, { search_r2: { preset, seed, steps: r.steps, batch: batchSize ?? 64, dtype, command } }), null, 2)}\n`);
    writeFileSync(join(out, 'tokenizer.json'), `${r.tokenizer.toTokenizerJson()}\n`);
    writeFileSync(join(out, 'train-log.jsonl'), logLines.map((l) => `${l}\n`).join(''));
    r.encoder.dispose();
    const last = r.log[r.log.length - 1];
    console.error(`encoder: wrote ${out} (model.safetensors ${(model.length / 1e6).toFixed(2)} MB)`);
    console.log(JSON.stringify({
      out,
      preset,
      seed,
      steps: r.steps,
      config: r.config,
      pairs: r.pairs,
      final_loss: last?.loss,
      final_in_batch_acc: last?.in_batch_acc,
      model_bytes: model.length,
      train_seconds: Math.round(r.seconds * 10) / 10,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    }));
    return 0;
  } finally {
    backend.dispose();
  }
}

async function exportOnnx(args: string[]): Promise<number> {
  const out = option(args, 'out');
  if (!out) return fail('export-onnx needs --out FILE.onnx');
  const dir = option(args, 'encoder') ?? SHIPPED_ENCODER_DIR;
  const t0 = performance.now();
  const backend = await createBackend('cpu');
  try {
    const enc = await readEncoderDir(backend.ops, dir);
    const bytes = exportEncoderOnnx(enc.model.config, await enc.model.weights());
    writeFileSync(out, bytes);
    enc.dispose();
    console.error(`encoder: wrote ${out} (${(bytes.length / 1e6).toFixed(2)} MB)`);
    console.log(JSON.stringify({ encoder: dir, out, bytes: bytes.length, seconds: Math.round((performance.now() - t0) / 100) / 10 }));
    return 0;
  } finally {
    backend.dispose();
  }
}
