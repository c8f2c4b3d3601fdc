// `retrieval eval`: recall@3 of a retriever (BM25, or an E5-style encoder + dense index) on one world split.
// Progress on stderr; the last stdout line is one JSON object:
//   {split, part, retriever, recall_at_3, all_at_3, questions, skipped, per_hop, per_family,
//    per_hop_all_at_3, per_family_all_at_3, seconds}
// recall@3 = mean over questions of |top-3 ∩ supporting| / |supporting|; all@3 = share of questions with every
// supporting passage in the top 3. Multi-hop questions are retrieved once, with the question text (see
// src/retrieval/eval.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend, createBestBackend } from '../engine/create.ts';
import type { Backend } from '../engine/types.ts';
import { createBm25Retriever } from '../retrieval/bm25.ts';
import { createDenseRetriever, DenseIndex } from '../retrieval/dense-index.ts';
import { evaluateRecall, type RecallStats } from '../retrieval/eval.ts';
import { FileIndexStore } from '../retrieval/file-store.ts';
import { corpusWorldId } from '../retrieval/index-store.ts';
import type { DenseEncoder, LoadEncoderRetriever, Retriever } from '../retrieval/types.ts';
import { readWorld } from '../world/format.ts';
import type { CorpusRecord, Part, SplitName } from '../world/types.ts';
import { PARTS, SPLITS } from '../world/types.ts';
import { option } from './args.ts';

const USAGE = [
  'retrieval eval --world DIR --retriever e5|bm25 [--encoder PATH] --split S [--part test|dev|train] [--limit N]',
  '                 [--backend cpu|webgpu] [--index-dir DIR]   recall@3 of a retriever on a world split',
].join('\n');

export const ENCODER_MODULE = 'src/retrieval/encoder-retriever.ts';
export const ENCODER_MISSING =
  'the encoder is not built yet (issue "A real knowledge world and E5-style retrieval": ' +
  `${ENCODER_MODULE} exporting loadEncoderRetriever(path) does not exist yet); use --retriever bm25`;

function fail(msg: string): number {
  console.error(`retrieval: ${msg}\nusage: ${USAGE}`);
  return 2;
}

export async function retrieval(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'eval') return await evalCmd(rest);
  } catch (e) {
    console.error(`retrieval ${sub}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return fail(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
}

/** The encoder module, loaded only when asked for (it may not exist yet). */
export async function loadEncoderModule(): Promise<LoadEncoderRetriever> {
  const file = fileURLToPath(new URL('../retrieval/encoder-retriever.ts', import.meta.url));
  if (!existsSync(file)) throw new Error(ENCODER_MISSING);
  const spec = '../retrieval/encoder-retriever.ts'; // a variable: the module need not exist for this file to build
  const mod = (await import(/* @vite-ignore */ spec)) as { loadEncoderRetriever?: unknown };
  if (typeof mod.loadEncoderRetriever !== 'function') throw new Error(`${ENCODER_MODULE} does not export loadEncoderRetriever(path)`);
  return mod.loadEncoderRetriever as LoadEncoderRetriever;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;
const pick = (m: Record<string, RecallStats>, f: (s: RecallStats) => number): Record<string, number> =>
  Object.fromEntries(Object.entries(m).map(([k, s]) => [k, round(f(s))]));

async function evalCmd(args: string[]): Promise<number> {
  const dir = option(args, 'world');
  const kind = option(args, 'retriever');
  const split = option(args, 'split');
  const part = option(args, 'part') ?? 'test';
  const limitText = option(args, 'limit');
  const backendKind = option(args, 'backend');
  if (!dir) return fail('eval needs --world DIR');
  if (kind !== 'bm25' && kind !== 'e5') return fail(`--retriever must be e5 or bm25, got ${kind === undefined ? 'nothing' : `"${kind}"`}`);
  if (!split || !(SPLITS as readonly string[]).includes(split)) return fail(`--split must be one of ${SPLITS.join(', ')}, got ${split === undefined ? 'nothing' : `"${split}"`}`);
  if (!(PARTS as readonly string[]).includes(part)) return fail(`--part must be one of ${PARTS.join(', ')}, got "${part}"`);
  const limit = limitText === undefined ? Infinity : Number(limitText);
  if (limitText !== undefined && (!/^\d+$/.test(limitText) || limit < 1)) return fail(`--limit must be a positive integer, got "${limitText}"`);
  if (backendKind !== undefined && backendKind !== 'cpu' && backendKind !== 'webgpu') return fail(`--backend must be cpu or webgpu, got "${backendKind}"`);

  const t0 = performance.now();
  // Checked before reading the world, so a missing encoder fails at once.
  const loadEncoder = kind === 'e5' ? await loadEncoderModule() : null;
  const w = readWorld(dir);
  const all = w.questions[split as SplitName][part as Part];
  const questions = all.slice(0, Math.min(all.length, limit));
  if (questions.length === 0) throw new Error(`${dir}: split ${split} has no ${part} questions`);
  console.error(`retrieval: ${w.corpus.length} passages; ${split}/${part}: ${questions.length} questions`);

  let retriever: Retriever;
  let backend: Backend | null = null;
  if (loadEncoder) {
    backend = backendKind ? await createBackend(backendKind) : await createBestBackend();
    console.error(`retrieval: backend ${backend.kind} (${backend.info.adapter})${backend.info.fallbackReason ? `, fallback: ${backend.info.fallbackReason}` : ''}`);
    const encoder = await loadEncoder(option(args, 'encoder'), { backend });
    retriever = await openDenseRetriever(encoder, backend, w.corpus, option(args, 'index-dir') ?? join(dir, 'indexes'));
  } else {
    const tb = performance.now();
    retriever = createBm25Retriever(w.corpus);
    console.error(`retrieval: BM25 index (k1 0.9, b 0.4) built in ${((performance.now() - tb) / 1000).toFixed(2)} s`);
  }
  try {
    let shown = 0;
    const report = await evaluateRecall(questions, retriever, {
      k: 3,
      onProgress: (done, total) => {
        if (done - shown >= 500 || done === total) {
          shown = done;
          console.error(`retrieval: ${done}/${total} questions`);
        }
      },
    });
    console.log(JSON.stringify({
      split,
      part,
      retriever: kind,
      recall_at_3: round(report.recall),
      all_at_3: round(report.all),
      questions: report.questions,
      skipped: report.skipped,
      per_hop: pick(report.perHop, (s) => s.recall),
      per_family: pick(report.perFamily, (s) => s.recall),
      per_hop_all_at_3: pick(report.perHop, (s) => s.all),
      per_family_all_at_3: pick(report.perFamily, (s) => s.all),
      seconds: round((performance.now() - t0) / 1000),
    }));
    return 0;
  } finally {
    retriever.dispose?.();
    backend?.dispose();
  }
}

/**
 * Encoder + dense index for the CLI: the passage vectors are cached (resumably) in a file store under
 * `indexDir`, keyed by (corpus content id, encoder id); a later run loads them instead of encoding again.
 */
export async function openDenseRetriever(encoder: DenseEncoder, backend: Backend, corpus: readonly CorpusRecord[], indexDir: string): Promise<Retriever> {
  const store = await FileIndexStore.open(indexDir);
  const worldId = corpusWorldId(corpus);
  let rec = await store.activeIndex(worldId, encoder.id);
  if (rec && rec.dim !== encoder.dim) rec = undefined;
  if (rec) console.error(`retrieval: using index ${rec.id} in ${indexDir}`);
  else {
    console.error(`retrieval: encoding ${corpus.length} passages with ${encoder.id} into ${indexDir}`);
    if (!(await store.getWorld(worldId))) await store.putWorld({ id: worldId, passages: corpus.length });
    rec = await store.buildIndex(
      { worldId, encoderId: encoder.id, dim: encoder.dim, count: corpus.length },
      async (_chunk, start, end) => {
        const slice = corpus.slice(start, end);
        return { ids: slice.map((r) => r.id), vectors: await encoder.encode(slice.map((r) => r.contents), 'passage') };
      },
      { onProgress: (p) => console.error(`retrieval: index ${p.indexId}: ${p.done}/${p.total} chunks${p.resumed ? ` (${p.resumed} resumed)` : ''}`) },
    );
  }
  const loaded = await store.loadIndex(rec.id);
  store.close();
  if (loaded.ids.some((id, i) => id !== corpus[i].id)) throw new Error(`index ${rec.id} does not follow the corpus order; delete ${indexDir} and run again`);
  return createDenseRetriever(encoder, new DenseIndex(backend, loaded.ids, loaded.vectors, loaded.record.dim));
}
