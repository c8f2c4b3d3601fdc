// Trajectory-quality rubrics on hand-built trajectories, and win/tie/loss counting.
import { describe, expect, it } from 'vitest';
import { qualityReport, rubricScores } from '../../src/rl/quality.ts';

const q = { supporting_ids: ['a', 'b'], golden_answers: ['x'] };
const t = (...searches: string[][]) => ({ searches: searches.map((ids) => ({ passages: ids.map((id) => ({ id })) })) });

describe('rubrics', () => {
  it('a clean two-hop trajectory scores 1 everywhere', async () => {
    expect(await rubricScores(t(['a', 'c', 'd'], ['b', 'e', 'f']), q)).toEqual({ groundedness: 1, density: 1, non_redundancy: 1, query_timing: 1 });
  });
  it('a redundant, late trajectory', async () => {
    // searches: [a c d] useful, [a c d] redundant, [b a e] useful, [e f g] irrelevant (after evidence complete)
    const s = await rubricScores(t(['a', 'c', 'd'], ['a', 'c', 'd'], ['b', 'a', 'e'], ['e', 'f', 'g']), q);
    expect(s.groundedness).toBe(1);
    expect(s.density).toBe(0.5);
    expect(s.non_redundancy).toBe(7 / 12); // distinct a c d b e f g = 7 of 12
    expect(s.query_timing).toBe(0.5);
  });
  it('a premature answer', async () => {
    const s = await rubricScores(t(['a', 'c', 'd']), q);
    expect(s.groundedness).toBe(0.5);
    expect(s.query_timing).toBe(0);
    expect(await rubricScores(t(), q)).toEqual({ groundedness: 0, density: 0, non_redundancy: 1, query_timing: 0 });
  });
});

describe('qualityReport', () => {
  it('counts wins of B over A per rubric on shared questions', async () => {
    const qs = new Map([['q1', q], ['q2', q], ['q3', q]]);
    const a = new Map([['q1', t(['a'])], ['q2', t(['a'], ['b'])], ['q3', t(['a'], ['b'])]]);
    const b = new Map([['q1', t(['a'], ['b'])], ['q2', t(['a'], ['b'])], ['q9', t()]]);
    const r = await qualityReport('r1', a, 'r2', b, qs);
    expect(r.pairs).toBe(2);
    expect(r.rubrics.groundedness).toMatchObject({ wins: 1, ties: 1, losses: 0, winRate: 0.5 });
    expect(r.rubrics.query_timing).toMatchObject({ wins: 1, ties: 1, losses: 0 });
  });
});
