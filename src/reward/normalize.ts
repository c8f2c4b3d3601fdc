/**
 * SQuAD v1.1 answer normalization, ported exactly from the official evaluate script:
 *
 * ```py
 * def normalize_answer(s):
 *     def remove_articles(text): return re.sub(r'\b(a|an|the)\b', ' ', text)
 *     def white_space_fix(text): return ' '.join(text.split())
 *     def remove_punc(text): return ''.join(ch for ch in text if ch not in set(string.punctuation))
 *     def lower(text): return text.lower()
 *     return white_space_fix(remove_articles(remove_punc(lower(s))))
 * ```
 *
 * Python semantics reproduced here (checked against CPython 3.11 over every code point):
 * - `str.lower()` is full Unicode lowercasing (final sigma included), as `String.prototype.toLowerCase`.
 * - `string.punctuation` is the 32 ASCII characters ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``; they are deleted,
 *   not replaced by a space ("U.S." -> "us"). Non-ASCII punctuation is kept.
 * - `\b` in a Python 3 `str` pattern is Unicode-aware: a word character is one for which `str.isalnum()` holds
 *   (general category L* or N*) or `_`. Combining marks (M*) are *not* word characters. JavaScript's `\b` is
 *   ASCII-only even with the `u` flag, so the boundaries are written as lookarounds on `[\p{L}\p{N}_]`.
 * - `str.split()` without arguments splits on runs of `str.isspace()` characters and drops empty pieces. That set
 *   differs from JavaScript's `\s`: it includes U+001C..U+001F and U+0085 and excludes U+FEFF.
 */

/** Python's `string.punctuation`, as a character class. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** `\b(a|an|the)\b` with Python 3's Unicode word characters. */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** The characters for which Python's `str.isspace()` is true. */
export const PY_WHITESPACE_CLASS =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'u');
const STRIP = new RegExp(`^[${PY_WHITESPACE_CLASS}]+|[${PY_WHITESPACE_CLASS}]+$`, 'gu');

/** Python's `s.split()` (no separator): split on whitespace runs, no empty strings. */
export function pySplit(text: string): string[] {
  return text.split(WHITESPACE_RUN).filter((piece) => piece.length > 0);
}

/** Python's `s.strip()` (no argument): remove leading and trailing `str.isspace()` characters. */
export function pyStrip(text: string): string {
  return text.replace(STRIP, '');
}

/** SQuAD's `normalize_answer`: lower -> remove punctuation -> remove articles -> collapse whitespace. */
export function normalizeAnswer(text: string): string {
  const lowered = text.toLowerCase();
  const noPunct = lowered.replace(PUNCTUATION, '');
  const noArticles = noPunct.replace(ARTICLES, ' ');
  return pySplit(noArticles).join(' ');
}
