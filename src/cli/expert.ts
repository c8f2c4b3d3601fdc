// `expert report|show|vocab`: the scripted expert and the policy vocabulary on a world, with BM25 top-3.
// Progress on stderr; the last stdout line of `report` is one JSON object:
//   {world, seed, k, vocab: {size, words, fallback: {passages, questions}}, expert: {<split>: {em, found,
//    primary_found, hop_recall_primary, by_relations}}, demonstrations: {tokens_mean, tokens_max, ...},
//    sft: {seconds, actor, judge, trim, flawed, cuts}, seconds}
import { writeFileSync } from 'node:fs';
import { type Demonstration, createExpertContext, executePlan, planQuestion } from '../agent/expert.ts';
import { flawedVariant, FLAW_KINDS } from '../agent/flaws.ts';
import { actorPrompt, questionText } from '../agent/prompts.ts';
import { buildSftData, buildWorldTokenizer, encodeResponse } from '../agent/sft-data.ts';
import { Rng } from '../engine/rng.ts';
import { createBm25Retriever } from '../retrieval/bm25.ts';
import { passagesToString } from '../retrieval/format.ts';
import { addFallbackStats, type FallbackStats, type PolicyTokenizer, SlotMap } from '../text/policy-tokenizer.ts';
import { readWorld } from '../world/format.ts';
import { streamSeed } from '../world/random.ts';
import type { Question, SplitName } from '../world/types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from '../world/types.ts';
import { integerOption, option } from './args.ts';

const USAGE = [
  'expert report --world DIR [--splits nq,hotpotqa|all] [--part train] [--limit N] [--seed N] [--no-sft]',
  '                                   expert EM with BM25 top-3, vocab and fallback rates, tokens per demonstration, SFT build time',
  '  expert show --world DIR --id QUESTION_ID [--seed N]   a demonstration and its flawed variants',
  '  expert vocab --world DIR --out FILE [--max-size N]    write the policy vocabulary (JSON)',
].join('\n');

function fail(msg: string): number {
  console.error(`expert: ${msg}\nusage: ${USAGE}`);
  return 2;
}

export async function expert(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'report') return await report(rest);
    if (sub === 'show') return await show(rest);
    if (sub === 'vocab') return vocab(rest);
  } catch (e) {
    console.error(`expert ${sub}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return fail(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
}

function allQuestions(w: ReturnType<typeof readWorld>): Question[] {
  return SPLITS.flatMap((s) => PARTS.flatMap((p) => w.questions[s][p]));
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

function fallbackJson(s: FallbackStats): Record<string, number> {
  return {
    tokens: s.tokens,
    atoms: s.atoms,
    tokens_per_atom: r4(s.tokens / Math.max(1, s.atoms)),
    words: s.words,
    spelled_word_rate: r4(s.spelledWords / Math.max(1, s.words)),
    fallback_token_rate: r4(s.fallbackTokens / Math.max(1, s.tokens)),
    byte_token_rate: r4(s.byteTokens / Math.max(1, s.tokens)),
    unk_rate: r4(s.unkTokens / Math.max(1, s.tokens)),
  };
}

function demoTokens(tok: PolicyTokenizer, d: Demonstration): { total: number; response: number; policy: number } {
  const slots = new SlotMap();
  const prompt = 1 + tok.encode(actorPrompt(d.question.question), slots).length;
  const r = encodeResponse(tok, d.response, d.observations, slots);
  let policy = 0;
  for (let i = 0; i < r.mask.length; i++) policy += r.mask[i];
  return { total: prompt + r.ids.length, response: r.ids.length, policy };
}

async function report(args: string[]): Promise<number> {
  const dir = option(args, 'world');
  if (!dir) return fail('report needs --world DIR');
  const splitsText = option(args, 'splits') ?? TRAINING_SPLITS.join(',');
  const splits = (splitsText === 'all' ? [...SPLITS] : splitsText.split(',')) as SplitName[];
  for (const s of splits) if (!(SPLITS as readonly string[]).includes(s)) return fail(`unknown split "${s}"`);
  const part = option(args, 'part') ?? 'train';
  if (!(PARTS as readonly string[]).includes(part)) return fail(`--part must be one of ${PARTS.join(', ')}`);
  const limit = integerOption(args, 'limit', Number.MAX_SAFE_INTEGER);
  const seed = integerOption(args, 'seed', 0);
  const t0 = performance.now();
  const w = readWorld(dir);
  const all = allQuestions(w);
  console.error(`expert: ${w.corpus.length} passages, ${all.length} questions`);

  const tv = performance.now();
  const tok = buildWorldTokenizer(w.corpus, all);
  const vocabSeconds = (performance.now() - tv) / 1000;
  let fbP: FallbackStats | null = null;
  // Measured in the context the policy reads them: passages in an information block, questions after "Question:".
  for (const r of w.corpus) {
    const s = tok.fallbackStats(passagesToString([r.contents]));
    fbP = fbP ? addFallbackStats(fbP, s) : s;
  }
  let fbQ: FallbackStats | null = null;
  for (const q of all) {
    const s = tok.fallbackStats(`Question: ${questionText(q.question)}`);
    fbQ = fbQ ? addFallbackStats(fbQ, s) : s;
  }
  console.error(`expert: vocabulary of ${tok.size} ids in ${vocabSeconds.toFixed(2)} s`);

  const tb = performance.now();
  const retriever = createBm25Retriever(w.corpus);
  const bm25Seconds = (performance.now() - tb) / 1000;
  // Wrong guesses (failed and flawed trajectories) are drawn from the answers of the questions being run only.
  const runQuestions = splits.flatMap((s) => (w.questions[s][part as 'train'] ?? []).slice(0, limit));
  const ctx = createExpertContext(w.corpus, retriever, runQuestions);
  const expertOut: Record<string, unknown> = {};
  const demoLens: number[] = [];
  const respLens: number[] = [];
  const policyLens: number[] = [];
  const searches: number[] = [];
  for (const split of splits) {
    const qs = (w.questions[split][part as 'train'] ?? []).slice(0, limit);
    const byRel = new Map<string, { n: number; em: number; found: number; primary: number }>();
    const hopN: number[] = [];
    const hopHit: number[] = [];
    let n = 0;
    let unsupported = 0;
    let em = 0;
    let found = 0;
    let primary = 0;
    const ts = performance.now();
    for (const q of qs) {
      const plan = planQuestion(q, ctx.view);
      if (!plan) {
        unsupported++;
        continue;
      }
      const d = await executePlan(plan, ctx.search, ctx.pool, new Rng(streamSeed(seed, `sft:${q.id}`)));
      n++;
      em += d.correct ? 1 : 0;
      found += d.found ? 1 : 0;
      primary += d.primaryFound ? 1 : 0;
      // Hop recall of the plan's own queries (every hop, also after a failed one: searched here directly).
      for (const [i, hop] of plan.hops.entries()) {
        const top = await ctx.search.top(hop.query);
        hopN[i] = (hopN[i] ?? 0) + 1;
        hopHit[i] = (hopHit[i] ?? 0) + (top.some((p) => p.id === hop.target) ? 1 : 0);
      }
      const key = `${q.family}:${q.relations.join('>')}`;
      const s = byRel.get(key) ?? { n: 0, em: 0, found: 0, primary: 0 };
      s.n++;
      s.em += d.correct ? 1 : 0;
      s.found += d.found ? 1 : 0;
      s.primary += d.primaryFound ? 1 : 0;
      byRel.set(key, s);
      if (d.found) {
        const t = demoTokens(tok, d);
        demoLens.push(t.total);
        respLens.push(t.response);
        policyLens.push(t.policy);
        searches.push(d.steps.length);
      }
    }
    expertOut[split] = {
      part,
      questions: qs.length,
      unsupported,
      em: r4(em / Math.max(1, n)),
      found: r4(found / Math.max(1, n)),
      primary_found: r4(primary / Math.max(1, n)),
      hop_recall_primary: hopN.map((c, i) => r4(hopHit[i] / c)),
      by_relations: Object.fromEntries([...byRel].sort().map(([k, s]) => [k, { n: s.n, em: r4(s.em / s.n), primary_found: r4(s.primary / s.n) }])),
      seconds: r4((performance.now() - ts) / 1000),
    };
    console.error(`expert: ${split}/${part}: EM ${(em / Math.max(1, n)).toFixed(3)} over ${n} questions (primary plan found every passage: ${(primary / Math.max(1, n)).toFixed(3)})`);
  }
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const out: Record<string, unknown> = {
    world: dir,
    seed,
    k: 3,
    retriever: 'bm25',
    vocab: {
      size: tok.size,
      words: tok.vocab.build?.words,
      chars: tok.vocab.build?.chars,
      hash: tok.hash,
      seconds: r4(vocabSeconds),
      fallback: { passages: fbP && fallbackJson(fbP), questions: fbQ && fallbackJson(fbQ) },
    },
    expert: expertOut,
    demonstrations: {
      count: demoLens.length,
      tokens_mean: r4(mean(demoLens)),
      tokens_max: Math.max(0, ...demoLens),
      response_tokens_mean: r4(mean(respLens)),
      policy_tokens_mean: r4(mean(policyLens)),
      searches_mean: r4(mean(searches)),
    },
    bm25_index_seconds: r4(bm25Seconds),
  };
  if (!args.includes('--no-sft')) {
    const questions = runQuestions;
    const t1 = performance.now();
    const fresh = createExpertContext(w.corpus, retriever, questions);
    let last = 0;
    const sft = await buildSftData({
      tokenizer: tok,
      ctx: fresh,
      questions,
      seed,
      onProgress: (d, t) => {
        if (d - last >= 2000 || d === t) {
          last = d;
          console.error(`expert: sft ${d}/${t}`);
        }
      },
    });
    const sftSeconds = (performance.now() - t1) / 1000;
    out.sft = { seconds: r4(sftSeconds), searches: fresh.search.queries, ...sft.stats };
    console.error(`expert: SFT data (${sft.actor.length} actor, ${sft.judge.length} judge, ${sft.trim.length} trim) in ${sftSeconds.toFixed(1)} s`);
  }
  out.seconds = r4((performance.now() - t0) / 1000);
  console.log(JSON.stringify(out));
  return 0;
}

async function show(args: string[]): Promise<number> {
  const dir = option(args, 'world');
  const id = option(args, 'id');
  if (!dir || !id) return fail('show needs --world DIR and --id QUESTION_ID');
  const seed = integerOption(args, 'seed', 0);
  const w = readWorld(dir);
  const all = allQuestions(w);
  const q = all.find((x) => x.id === id);
  if (!q) return fail(`no question ${id}`);
  const ctx = createExpertContext(w.corpus, createBm25Retriever(w.corpus), all);
  const plan = planQuestion(q, ctx.view);
  if (!plan) return fail(`no plan for ${id} (relations ${q.relations.join('>')})`);
  const rng = new Rng(streamSeed(seed, `sft:${q.id}`));
  const demo = await executePlan(plan, ctx.search, ctx.pool, rng);
  console.log(`${actorPrompt(q.question)}\n${demo.response}\n(found ${demo.found}, correct ${demo.correct})`);
  for (const kind of FLAW_KINDS) {
    const f = await flawedVariant(kind, demo, ctx, rng);
    console.log(`\n=== ${kind}: ${f ? `${f.detail}; earliest flawed step ${f.earliestFlawedStep}, <cut_${f.cut}>, correct ${f.correct}\n${f.response}` : 'not applicable'}`);
  }
  return 0;
}

function vocab(args: string[]): number {
  const dir = option(args, 'world');
  const out = option(args, 'out');
  if (!dir || !out) return fail('vocab needs --world DIR and --out FILE');
  const maxSize = integerOption(args, 'max-size', 8000);
  const w = readWorld(dir);
  const tok = buildWorldTokenizer(w.corpus, allQuestions(w), { maxSize });
  writeFileSync(out, tok.toJSON());
  console.error(`expert: wrote ${out} (${tok.size} ids)`);
  console.log(JSON.stringify({ out, size: tok.size, hash: tok.hash }));
  return 0;
}
