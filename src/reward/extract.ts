/**
 * Final-answer extraction, as Search-R1's `extract_solution`: all matches of `<answer>(.*?)</answer>` with
 * DOTALL (non-greedy, may span lines, tags case-sensitive), take the last one, strip it.
 *
 * Pass only the *response* (the generated text after the prompt): the prompt's own `<answer></answer>` example
 * must not count. Only complete pairs count: an unclosed trailing `<answer>` is ignored. As with the regex, a
 * match runs from an opening tag to the nearest closing tag after it, so `<answer>a <answer>b</answer>` gives
 * `a <answer>b` (a malformed response; `parseTrajectory` reports it as invalid).
 * Stripping follows Python's `str.strip()` (its whitespace set, see `pyStrip`).
 */
import { pyStrip } from './normalize.ts';

const OPEN = '<answer>';
const CLOSE = '</answer>';

/** The last complete `<answer>...</answer>` of the response, content stripped; null when there is none. */
export function extractAnswer(response: string): string | null {
  // Same matches as re.finditer(r'<answer>(.*?)</answer>', s, re.DOTALL), found with indexOf in linear time
  // (the regex is quadratic on many unclosed '<answer>').
  let last: string | null = null;
  let from = 0;
  for (;;) {
    const open = response.indexOf(OPEN, from);
    if (open < 0) break;
    const close = response.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) break;
    last = response.slice(open + OPEN.length, close);
    from = close + CLOSE.length;
  }
  return last === null ? null : pyStrip(last);
}
