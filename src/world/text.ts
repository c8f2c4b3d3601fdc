// Small prose helpers shared by passages and question templates.
import { normalizeAnswer } from '../reward/normalize.ts';

/** 1086505 -> "1,086,505" (locale-independent). */
export function formatInt(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

/** An area as world-countries gives it: integers grouped, fractions kept as written ("0.44", "1,234.5"). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return formatInt(n);
  const [int, frac] = String(n).split('.');
  return `${formatInt(Number(int))}.${frac}`;
}

/** Gold strings for a number: the grouped form, and the plain digits when they differ. */
export function numberAnswers(n: number): string[] {
  const a = formatNumber(n);
  const b = String(n);
  return a === b ? [a] : [a, b];
}

/** "A", "A and B", "A, B and C". */
export function joinList(items: readonly string[], conj = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conj} ${items[items.length - 1]}`;
}

export function article(word: string): 'a' | 'an' {
  return /^[aeiou]/i.test(word) && !/^(uni|eu|one|use|usa)/i.test(word) ? 'an' : 'a';
}

export function capitalize(s: string): string {
  return s.length === 0 ? s : s[0].toUpperCase() + s.slice(1);
}

/** End a sentence with a full stop unless it already ends with punctuation. */
export function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** Unique strings, first occurrence kept, empty ones dropped. */
export function uniq(items: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of items) if (s && !out.includes(s)) out.push(s);
  return out;
}

/** Whether `answer` is stated in `contents`: SQuAD-normalized, on word boundaries. */
export function statedIn(answer: string, contents: string): boolean {
  const a = normalizeAnswer(answer);
  if (a.length === 0) return false;
  return ` ${normalizeAnswer(contents)} `.includes(` ${a} `);
}
