// `ablate --suite paper|smoke [--seeds K] [--steps N] [--model tiny|small] [--checkpoint PATH] [--world DIR]
//  [--eval-refiner] --out DIR` (DESIGN 9): runs src/rl/suite.ts and writes DIR/results.json (one row per preset:
// preset, em per split and average with 95% intervals across seeds, general / multi-hop / overall averages,
// trajectories_per_step, seconds_per_step, refine_rate, the covariance terms; plus every (preset, seed) run and the
// trajectory-quality report), DIR/results.csv and DIR/results.md (shaped like the paper's table). Progress on
// stderr; the last stdout line is one JSON object.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUITES } from '../rl/presets.ts';
import { resultsCsv, resultsMarkdown, runSuite } from '../rl/suite.ts';
import { integerOption, option } from './args.ts';
import { backendFor, loadCheckpointFor, loadWorldFor, log, retrieverFor } from './train.ts';

export const ABLATE_USAGE =
  'ablate --suite paper|smoke [--seeds K] [--steps N] [--checkpoint PATH] [--world DIR] [--backend cpu|webgpu] [--retriever bm25|e5 [--encoder PATH]] [--eval-refiner] --out DIR';

export async function ablate(args: string[]): Promise<number> {
  try {
    const suite = option(args, 'suite');
    if (suite !== 'smoke' && suite !== 'paper') {
      console.error(`ablate: --suite must be smoke or paper, got ${JSON.stringify(suite ?? null)}\nusage: ${ABLATE_USAGE}`);
      return 2;
    }
    const out = option(args, 'out');
    if (!out) {
      console.error(`ablate: --out DIR is required\nusage: ${ABLATE_USAGE}`);
      return 2;
    }
    const spec = SUITES[suite];
    const seeds = integerOption(args, 'seeds', spec.seeds, 1);
    const steps = integerOption(args, 'steps', spec.steps, 1);
    const backend = await backendFor(option(args, 'backend'));
    try {
      const world = loadWorldFor(option(args, 'world'), spec.schedule);
      const checkpoint = loadCheckpointFor(option(args, 'checkpoint'), spec.schedule);
      const retriever = await retrieverFor(args, backend, world);
      log(`ablate ${suite}: ${spec.presets.length} presets x ${seeds} seed(s) x ${steps} steps; ${backend.info.adapter}; world ${world.source}; warm start ${checkpoint?.source ?? 'fresh policy'}`);
      const r = await runSuite(suite, { seeds, steps, evalRefiner: args.includes('--eval-refiner') }, {
        backend,
        world,
        checkpoint,
        ...(retriever ? { retriever } : {}),
        log: (l) => log(`ablate: ${l}`),
        onProgress: (p) => log(`ablate: run ${p.done + 1}/${p.total}: ${p.preset} seed ${p.seed}${p.etaSeconds !== null ? ` (about ${Math.round(p.etaSeconds)} s left)` : ''}`),
      });
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
      writeFileSync(join(out, 'results.csv'), resultsCsv(r));
      writeFileSync(join(out, 'results.md'), resultsMarkdown(r));
      log(`ablate: wrote ${join(out, 'results.json')}, results.csv, results.md (${r.seconds.toFixed(1)} s)`);
      console.log(JSON.stringify({
        suite,
        out,
        seeds,
        steps,
        seconds: Math.round(r.seconds * 100) / 100,
        rows: r.rows.map((x) => ({ preset: x.preset, average: x.average.mean, general: x.general.mean, multihop: x.multihop.mean, trajectories_per_step: x.trajectories_per_step, seconds_per_step: x.seconds_per_step, refine_rate: x.refine_rate })),
      }));
      return 0;
    } finally {
      backend.dispose();
    }
  } catch (e) {
    console.error(`ablate: ${e instanceof Error ? e.message : String(e)}\nusage: ${ABLATE_USAGE}`);
    return 1;
  }
}
