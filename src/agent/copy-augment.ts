// Copy augmentation for the Actor's SFT examples: a demonstration with its plan's names replaced, consistently,
// everywhere they occur (question, reasoning, queries, the retrieved passages, the answer).
//
// Why: the world's splits are entity-disjoint (no dev/test entity is named in a training question), so a small
// policy trained on the plain demonstrations learns the training entities' facts instead of reading: it answers
// "Seychelles" questions by searching for a training country it knows. In a renamed demonstration the memorized
// facts are wrong and only copying works: the query must copy the question's name, the next hop must copy the
// name the passage gives, the answer must copy the passage's value. Replacement names are drawn from the policy
// vocabulary's own word pieces and from random letter strings (spelled by the tokenizer's character fallback), so
// copying is trained over tokens of every frequency without naming any held-out entity on purpose; numbers are
// replaced by random digits in the same grouping ("22,881" -> "57,390").
// WorldNameSource is the counterfactual variant: each name is replaced by a real name of the world that plays the
// same role in another training plan (a capital by a capital, a currency by a currency), so the renamed text stays
// in distribution (trained tokens, plausible sentences) while its facts contradict what the policy memorized.
import type { Rng } from '../engine/rng.ts';
import type { PolicyTokenizer, SpecialIds } from '../text/policy-tokenizer.ts';
import type { SftExample } from './sft-data.ts';
import type { Demonstration, Plan } from './expert.ts';
import type { TextSpan } from './trajectory.ts';

/** The text of an Actor example: the question and the response with its observation spans. */
export interface ActorText {
  question: string;
  response: string;
  observations: TextSpan[];
  answer: string;
}

const NUMBER = /^\d[\d,.]*$/;
const LETTER_START = /^\p{Lu}/u;
const MAX_NAME_CHARS = 48;

/** The names a plan reads and writes: every hop's subject and value that is a name or a number. */
export function planNames(demo: Demonstration): string[] {
  const out: string[] = [];
  for (const h of demo.plan.hops) for (const n of [h.subject, h.value, h.context ?? '']) if (renameable(n) && !out.includes(n)) out.push(n);
  return out;
}

function renameable(n: string): boolean {
  return n.length > 0 && n.length <= MAX_NAME_CHARS && !n.includes('?') && (NUMBER.test(n) || LETTER_START.test(n));
}

/** Where replacement names come from: one per plan name, or null to keep that name. */
export interface Renamer {
  fresh(name: string, demo: Demonstration, rng: Rng): string | null;
  /** A fresh name may not share a word with the text (fresh strings) or may not occur in it as a whole (real names). */
  readonly clash: 'word' | 'whole';
}

/** A random number shaped like `n`: same length, same separators, no leading zero. */
function randomNumber(n: string, rng: Rng): string {
  let out = '';
  for (let i = 0; i < n.length; i++) {
    const c = n[i];
    out += c >= '0' && c <= '9' ? String(i === 0 && n.length > 1 ? 1 + rng.int(9) : rng.int(10)) : c;
  }
  return out;
}

/** Replacement-name source over a tokenizer's vocabulary. */
export class NameSource implements Renamer {
  readonly clash = 'word' as const;
  /** Space-flagged word pieces that start with a capital letter ("Baku", "Republic"). */
  private readonly words: string[];

  constructor(tokenizer: PolicyTokenizer) {
    this.words = tokenizer.vocab.pieces.filter((p) => p.startsWith(' ') && /^ \p{Lu}\p{Ll}+$/u.test(p)).map((p) => p.slice(1));
    if (this.words.length === 0) throw new Error('copy augmentation: the vocabulary has no capitalized word pieces');
  }

  /** A random number shaped like `n`: same length, same separators, no leading zero. */
  number(n: string, rng: Rng): string {
    return randomNumber(n, rng);
  }

  fresh(n: string, _demo: Demonstration, rng: Rng): string {
    return NUMBER.test(n) ? randomNumber(n, rng) : this.name(rng);
  }

  /** A random name of 1-3 words: vocabulary words (70%) or letter strings (30%). */
  name(rng: Rng): string {
    const words = 1 + (rng.next() < 0.6 ? 0 : rng.next() < 0.7 ? 1 : 2);
    const parts: string[] = [];
    for (let i = 0; i < words; i++) parts.push(rng.next() < 0.7 ? this.words[rng.int(this.words.length)] : letters(rng));
    return parts.join(' ');
  }
}

/** The role a plan name plays: `subject:R` / `value:R` of the first hop (in order) naming it, or `context`. */
export function nameRole(plan: Plan, name: string): string | null {
  for (const h of plan.hops) {
    if (h.subject === name) return `subject:${h.relation}`;
    if (h.value === name) return `value:${h.relation}`;
    if (h.context === name) return 'context';
  }
  return null;
}

/** Counterfactual replacement names: real names of the world by the role they play in the given plans. */
export class WorldNameSource implements Renamer {
  readonly clash = 'whole' as const;
  private readonly byRole = new Map<string, string[]>();

  constructor(plans: Iterable<Plan>) {
    const sets = new Map<string, Set<string>>();
    for (const plan of plans)
      for (const h of plan.hops)
        for (const [n, role] of [[h.subject, `subject:${h.relation}`], [h.value, `value:${h.relation}`], [h.context ?? '', 'context']] as const) {
          if (!renameable(n) || NUMBER.test(n)) continue;
          let set = sets.get(role);
          if (!set) sets.set(role, (set = new Set()));
          set.add(n);
        }
    // Sorted: the draw depends on the plans' names only, not on their order.
    for (const [role, set] of sets) this.byRole.set(role, [...set].sort());
  }

  fresh(n: string, demo: Demonstration, rng: Rng): string | null {
    if (NUMBER.test(n)) return randomNumber(n, rng);
    const role = nameRole(demo.plan, n);
    const pool = role === null ? undefined : this.byRole.get(role);
    if (!pool || pool.length < 2) return null;
    for (let tries = 0; tries < 4; tries++) {
      const m = pool[rng.int(pool.length)];
      if (m !== n) return m;
    }
    return null;
  }
}

const CONSONANTS = 'bcdfghjklmnprstvz';
const VOWELS = 'aeiou';

function letters(rng: Rng): string {
  const syllables = 2 + rng.int(3);
  let s = '';
  for (let i = 0; i < syllables; i++) s += CONSONANTS[rng.int(CONSONANTS.length)] + VOWELS[rng.int(VOWELS.length)];
  if (rng.next() < 0.5) s += CONSONANTS[rng.int(CONSONANTS.length)];
  return s[0].toUpperCase() + s.slice(1);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Replaces every whole-word occurrence of the mapping's keys at once (longest first; no chained replacement). A key
 * also matches in lower case (NQ-like questions are lower-cased), and is then replaced by the lower-cased name.
 */
export function replaceNames(text: string, mapping: ReadonlyMap<string, string>): string {
  if (mapping.size === 0) return text;
  const lower = new Map<string, string>();
  for (const [k, v] of mapping) if (!mapping.has(k.toLowerCase())) lower.set(k.toLowerCase(), v.toLowerCase());
  const keys = [...mapping.keys(), ...lower.keys()].sort((a, b) => b.length - a.length);
  const re = new RegExp(`(?<![\\p{L}\\p{M}\\p{N}])(?:${keys.map(escape).join('|')})(?![\\p{L}\\p{M}\\p{N}])`, 'gu');
  return text.replace(re, (m) => mapping.get(m) ?? lower.get(m) ?? m);
}

/** The response with the names replaced, its observation spans moved to match. */
export function renameResponse(response: string, observations: readonly TextSpan[], mapping: ReadonlyMap<string, string>): { response: string; observations: TextSpan[] } {
  let out = '';
  let at = 0;
  const spans: TextSpan[] = [];
  for (const o of observations) {
    out += replaceNames(response.slice(at, o.start), mapping);
    const start = out.length;
    out += replaceNames(response.slice(o.start, o.end), mapping);
    spans.push({ start, end: out.length });
    at = o.end;
  }
  out += replaceNames(response.slice(at), mapping);
  return { response: out, observations: spans };
}

/**
 * A renaming of the demonstration's plan names. Fresh strings never share a word with the text or with another
 * fresh name; real names (clash 'whole') never occur whole in the text and are never given twice: either way each
 * name stays unambiguous. A name with no acceptable replacement in 8 tries keeps its own.
 */
export function renameMapping(demo: Demonstration, names: Renamer, rng: Rng): Map<string, string> {
  const text = `${demo.question.question} ${demo.response}`;
  const mapping = new Map<string, string>();
  const used = new Set<string>();
  const occurs = (w: string): boolean => replaceNames(text, new Map([[w, '']])) !== text;
  for (const n of planNames(demo)) {
    for (let tries = 0; tries < 8; tries++) {
      const fresh = names.fresh(n, demo, rng);
      if (fresh === null) break;
      const parts = names.clash === 'word' ? fresh.split(' ') : [fresh];
      if (parts.some((w) => used.has(w) || occurs(w))) continue;
      for (const w of parts) used.add(w);
      mapping.set(n, fresh);
      break;
    }
  }
  return mapping;
}

/** The demonstration as Actor text, renamed. */
export function renamedActorText(demo: Demonstration, names: Renamer, rng: Rng): ActorText {
  const mapping = renameMapping(demo, names, rng);
  const r = renameResponse(demo.response, demo.observations, mapping);
  return { question: replaceNames(demo.question.question, mapping), response: r.response, observations: r.observations, answer: replaceNames(demo.answer, mapping) };
}

/**
 * Short Actor examples cut from a (renamed) one: its ids and mask up to and including the first `</search>` (the
 * question's name copied into the think and the query), and up to and including the first `</think>` after the
 * first `</information>` (the next name, read off a passage). Only cuts that exist are returned.
 */
export function actorPrefixes(x: SftExample, special: Pick<SpecialIds, 'searchEnd' | 'informationEnd' | 'thinkEnd'>): SftExample[] {
  const out: SftExample[] = [];
  const cut = (end: number): void => {
    out.push({ ...x, ids: x.ids.slice(0, end), mask: x.mask.slice(0, end) });
  };
  const firstSearch = x.ids.indexOf(special.searchEnd, x.promptLength);
  if (firstSearch < 0) return out;
  cut(firstSearch + 1);
  const firstInfo = x.ids.indexOf(special.informationEnd, firstSearch);
  const think = firstInfo < 0 ? -1 : x.ids.indexOf(special.thinkEnd, firstInfo);
  if (think >= 0) cut(think + 1);
  return out;
}
