// Trajectory-quality report (issue 6): paired trajectories of two runs (Search-R1 vs Search-R2) on the same test
// questions, scored on rubrics the world lets us compute exactly (it knows every question's supporting passages),
// with win / tie / loss rates per rubric, as the paper's paired comparison does with an LLM judge.
//
// Rubrics of one trajectory, each in [0, 1] (S = the question's supporting passage ids, searches in order):
//   groundedness     share of S retrieved by some search (the answer rests on the evidence it read)
//   density          useful searches / searches (gold-evidence labels: a search is useful when it brings a supporting
//                    passage not retrieved before); 0 without searches
//   non-redundancy   distinct passages retrieved / passages retrieved (1 without searches)
//   query timing     1 when the trajectory answers right after the search that completed S (no premature answer and
//                    no search after the evidence was complete); 0.5 when S was completed but searching went on;
//                    0 when it answered (or stopped) before S was complete
import type { Rollout } from '../agent/rollout.ts';
import { goldEvidenceJudge } from '../reward/judges.ts';
import type { Question } from '../world/types.ts';

export const RUBRICS = ['groundedness', 'density', 'non_redundancy', 'query_timing'] as const;
export type Rubric = (typeof RUBRICS)[number];
export type RubricScores = Record<Rubric, number>;

/** The parts of a trajectory the rubrics read. */
export interface ScoredTrajectory {
  searches: readonly { passages: readonly { id: string }[] }[];
}

export async function rubricScores(t: ScoredTrajectory, q: Pick<Question, 'supporting_ids' | 'golden_answers'>): Promise<RubricScores> {
  const gold = new Set(q.supporting_ids);
  const seen = new Set<string>();
  let total = 0;
  let completeAt = -1;
  const found = new Set<string>();
  t.searches.forEach((s, i) => {
    for (const p of s.passages) {
      total++;
      seen.add(p.id);
      if (gold.has(p.id)) found.add(p.id);
    }
    if (completeAt < 0 && gold.size > 0 && found.size === gold.size) completeAt = i;
  });
  const labels = await goldEvidenceJudge().label(
    { golden_answers: q.golden_answers, supporting_ids: q.supporting_ids },
    t.searches.map((s) => ({ query: '', passages: s.passages.map((p) => ({ id: p.id, contents: '' })) })),
  );
  const n = t.searches.length;
  return {
    groundedness: gold.size === 0 ? 1 : found.size / gold.size,
    density: n === 0 ? 0 : labels.filter((l) => l === 'useful').length / n,
    non_redundancy: total === 0 ? 1 : seen.size / total,
    query_timing: completeAt < 0 ? 0 : completeAt === n - 1 ? 1 : 0.5,
  };
}

export interface RubricComparison {
  wins: number;
  ties: number;
  losses: number;
  winRate: number;
  tieRate: number;
  lossRate: number;
  /** Mean score of A and B. */
  meanA: number;
  meanB: number;
}

export interface QualityReport {
  a: string;
  b: string;
  pairs: number;
  /** Wins of B over A (B better), per rubric. */
  rubrics: Record<Rubric, RubricComparison>;
}

/** Compares run B against run A on the questions both have a trajectory for (wins = B scores higher). */
export async function qualityReport(
  nameA: string,
  a: ReadonlyMap<string, Rollout | ScoredTrajectory>,
  nameB: string,
  b: ReadonlyMap<string, Rollout | ScoredTrajectory>,
  questions: ReadonlyMap<string, Pick<Question, 'supporting_ids' | 'golden_answers'>>,
): Promise<QualityReport> {
  const ids = [...a.keys()].filter((id) => b.has(id) && questions.has(id)).sort();
  const acc = Object.fromEntries(RUBRICS.map((r) => [r, { wins: 0, ties: 0, losses: 0, sa: 0, sb: 0 }])) as Record<Rubric, { wins: number; ties: number; losses: number; sa: number; sb: number }>;
  for (const id of ids) {
    const q = questions.get(id) as Pick<Question, 'supporting_ids' | 'golden_answers'>;
    const sa = await rubricScores(a.get(id) as ScoredTrajectory, q);
    const sb = await rubricScores(b.get(id) as ScoredTrajectory, q);
    for (const r of RUBRICS) {
      const d = sb[r] - sa[r];
      if (Math.abs(d) < 1e-9) acc[r].ties++;
      else if (d > 0) acc[r].wins++;
      else acc[r].losses++;
      acc[r].sa += sa[r];
      acc[r].sb += sb[r];
    }
  }
  const n = ids.length;
  const rubrics = Object.fromEntries(
    RUBRICS.map((r) => {
      const x = acc[r];
      return [r, { wins: x.wins, ties: x.ties, losses: x.losses, winRate: n ? x.wins / n : 0, tieRate: n ? x.ties / n : 0, lossRate: n ? x.losses / n : 0, meanA: n ? x.sa / n : 0, meanB: n ? x.sb / n : 0 }];
    }),
  ) as Record<Rubric, RubricComparison>;
  return { a: nameA, b: nameB, pairs: n, rubrics };
}
