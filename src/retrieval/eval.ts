// Retrieval recall on a world split (no file system here: the CLI and the app both call it).
//
// For a question with supporting passages S and the top-k retrieved set R (k = 3, Search-R1's top-k):
//   recall@k(q) = |R ∩ S| / |S|      (the share of its supporting passages found)
//   all@k(q)    = 1 if S ⊆ R else 0  (every hop's evidence found)
// and the reported numbers are the means over questions. Multi-hop questions are retrieved ONCE, with the
// question text as the query (no decomposition, no second hop), against all of their supporting passages: this
// measures what a single search gives the Actor, and is the upper bound a 1-search policy could see. Questions
// without supporting passages (imported data) are skipped and counted.
import type { Question } from '../world/types.ts';
import type { Retriever } from './types.ts';

export interface RecallStats {
  recall: number;
  all: number;
  questions: number;
}

export interface RecallReport {
  k: number;
  questions: number;
  skipped: number;
  recall: number;
  all: number;
  perHop: Record<string, RecallStats>;
  perFamily: Record<string, RecallStats>;
}

export interface EvalOptions {
  k?: number;
  /** Queries per retriever call. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

class Acc {
  recall = 0;
  all = 0;
  n = 0;
  add(r: number, a: number): void {
    this.recall += r;
    this.all += a;
    this.n++;
  }
  stats(): RecallStats {
    return { recall: this.n ? this.recall / this.n : 0, all: this.n ? this.all / this.n : 0, questions: this.n };
  }
}

function group(m: Map<string, Acc>): Record<string, RecallStats> {
  const out: Record<string, RecallStats> = {};
  for (const key of [...m.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) out[key] = m.get(key)!.stats();
  return out;
}

export async function evaluateRecall(questions: readonly Question[], retriever: Retriever, opts: EvalOptions = {}): Promise<RecallReport> {
  const k = opts.k ?? 3;
  const batch = opts.batch ?? 64;
  const usable = questions.filter((q) => q.supporting_ids.length > 0);
  const total = new Acc();
  const perHop = new Map<string, Acc>();
  const perFamily = new Map<string, Acc>();
  for (let i = 0; i < usable.length; i += batch) {
    const qs = usable.slice(i, i + batch);
    const hits = await retriever.search(qs.map((q) => q.question), k);
    qs.forEach((q, j) => {
      const got = new Set(hits[j].slice(0, k).map((h) => h.id));
      const support = [...new Set(q.supporting_ids)];
      const found = support.filter((id) => got.has(id)).length;
      const r = found / support.length;
      const a = found === support.length ? 1 : 0;
      total.add(r, a);
      for (const [m, key] of [[perHop, String(q.hops)], [perFamily, q.family]] as const) {
        if (!m.has(key)) m.set(key, new Acc());
        m.get(key)!.add(r, a);
      }
    });
    opts.onProgress?.(Math.min(i + batch, usable.length), usable.length);
  }
  const s = total.stats();
  return { k, questions: s.questions, skipped: questions.length - usable.length, recall: s.recall, all: s.all, perHop: group(perHop), perFamily: group(perFamily) };
}
