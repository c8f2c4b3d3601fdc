/**
 * Public entry of Search-R2 Playground (DESIGN 9). Importable in Node (vitest) and in the browser.
 */

// Rewards (DESIGN 4.3).
export { normalizeAnswer } from './reward/normalize.ts';
export { exactMatch, f1Score } from './reward/em.ts';
export { extractAnswer } from './reward/extract.ts';
export { processReward } from './reward/process.ts';
export type { StepLabel } from './reward/process.ts';
export { hybridReward } from './reward/hybrid.ts';

// GRPO (DESIGN 4.4).
export { grpoAdvantages } from './rl/advantages.ts';
export type { GrpoAdvantageOptions } from './rl/advantages.ts';

// Trajectories (DESIGN 4.1).
export { parseTrajectory } from './agent/trajectory.ts';
export type { Trajectory, Step, TextSpan } from './agent/trajectory.ts';

// ---------------------------------------------------------------------------------------------------------------
// Engine (DESIGN 6): backends. Wired by the engine work; keep these lines as they are.
export { createBackend } from './engine/create.ts';
export type { Backend, Ops, Tensor, BackendInfo, BackendKind } from './engine/types.ts';
