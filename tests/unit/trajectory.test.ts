import { describe, expect, it } from 'vitest';
import { parseTrajectory, type Trajectory } from '../../src/agent/trajectory.ts';

const DESIGN_EXAMPLE =
  '<think> I need the country whose capital is Ouagadougou. </think> <search> Ouagadougou capital country </search>\n' +
  '<information> Doc 1(Title: Ouagadougou) Ouagadougou is the capital of Burkina Faso ... Doc 2(Title: X) ...\n' +
  'Doc 3(Title: Y) ... </information>\n' +
  '<think> The country is Burkina Faso. </think> <search> Burkina Faso currency </search>\n' +
  '<information> Doc 1(Title: Burkina Faso) Burkina Faso is a landlocked country in Western Africa. Its capital is\n' +
  'Ouagadougou. Its currency is the West African CFA franc ... </information>\n' +
  '<think> Burkina Faso uses the West African CFA franc. </think> <answer> West African CFA franc </answer>';

/** Steps' spans and the final span tile [0, response.length). */
function expectTiling(t: Trajectory, response: string): void {
  let at = 0;
  for (const s of t.steps) {
    expect(s.span.start).toBe(at);
    expect(s.span.end).toBeGreaterThanOrEqual(s.searchSpan.end);
    at = s.span.end;
  }
  expect(t.finalSpan).toEqual({ start: at, end: response.length });
}

describe('parseTrajectory', () => {
  it('parses the DESIGN 4.1 example', () => {
    const t = parseTrajectory(DESIGN_EXAMPLE);
    expect(t.valid).toBe(true);
    expect(t.issues).toEqual([]);
    expect(t.answer).toBe('West African CFA franc');
    expect(t.steps).toHaveLength(2);
    const [s1, s2] = t.steps;
    expect(s1?.index).toBe(1);
    expect(s1?.reasoning).toBe('I need the country whose capital is Ouagadougou.');
    expect(s1?.query).toBe('Ouagadougou capital country');
    expect(s1?.information).toBe(
      'Doc 1(Title: Ouagadougou) Ouagadougou is the capital of Burkina Faso ... Doc 2(Title: X) ...\nDoc 3(Title: Y) ...',
    );
    expect(s2?.index).toBe(2);
    expect(s2?.reasoning).toBe('The country is Burkina Faso.');
    expect(s2?.query).toBe('Burkina Faso currency');
    expect(s2?.information?.startsWith('Doc 1(Title: Burkina Faso)')).toBe(true);
    expect(t.finalReasoning).toBe('Burkina Faso uses the West African CFA franc.');
    expectTiling(t, DESIGN_EXAMPLE);
  });

  it('records offsets that map back into the response', () => {
    const r = DESIGN_EXAMPLE;
    const t = parseTrajectory(r);
    const s1 = t.steps[0];
    if (s1 === undefined) throw new Error('no step');
    expect(r.slice(s1.searchSpan.start, s1.searchSpan.end)).toBe('<search> Ouagadougou capital country </search>');
    const info = s1.informationSpan;
    if (info === null) throw new Error('no information');
    expect(r.slice(info.start, info.start + 13)).toBe('<information>');
    expect(r.slice(info.end - 14, info.end)).toBe('</information>');
    expect(s1.span).toEqual({ start: 0, end: info.end });
    const ans = t.answerSpan;
    if (ans === null) throw new Error('no answer span');
    expect(r.slice(ans.start, ans.end)).toBe('<answer> West African CFA franc </answer>');
    expect(ans.end).toBe(r.length);
  });

  it('parses a direct answer without search', () => {
    const r = '<think> I know this. </think>\n<answer> Paris </answer>';
    const t = parseTrajectory(r);
    expect(t.steps).toEqual([]);
    expect(t.answer).toBe('Paris');
    expect(t.finalReasoning).toBe('I know this.');
    expect(t.valid).toBe(true);
    expect(t.finalSpan).toEqual({ start: 0, end: r.length });
  });

  it('gives null information when none followed the search', () => {
    const r = '<think>a</think><search> q1 </search><think>b</think><answer>x</answer>';
    const t = parseTrajectory(r);
    expect(t.steps).toHaveLength(1);
    expect(t.steps[0]?.information).toBeNull();
    expect(t.steps[0]?.informationSpan).toBeNull();
    expect(t.steps[0]?.span.end).toBe(r.indexOf('</search>') + '</search>'.length);
    expect(t.finalReasoning).toBe('b');
    expect(t.valid).toBe(true);
    expectTiling(t, r);
  });

  it('joins several think blocks and free text into the reasoning', () => {
    const r = 'Let me see. <think> one </think>\n<think> two </think> <search>q</search><information>i</information>';
    const t = parseTrajectory(r);
    expect(t.steps[0]?.reasoning).toBe('Let me see.\none\ntwo');
    expect(t.steps[0]?.information).toBe('i');
  });

  it('treats the inside of <information> as opaque', () => {
    const r =
      '<search>q</search><information> Doc 1 says <answer> fake </answer> and <search> no </search> </information>' +
      '<think>ok</think><answer>real</answer>';
    const t = parseTrajectory(r);
    expect(t.steps).toHaveLength(1);
    expect(t.steps[0]?.information).toBe('Doc 1 says <answer> fake </answer> and <search> no </search>');
    expect(t.answer).toBe('real');
    expect(t.valid).toBe(true);
  });

  it('is invalid without an answer', () => {
    const r = '<think>a</think><search>q</search><information>i</information>';
    const t = parseTrajectory(r);
    expect(t.answer).toBeNull();
    expect(t.valid).toBe(false);
    expect(t.issues.join(' ')).toMatch(/answer/);
    expect(t.steps).toHaveLength(1);
    expect(t.finalReasoning).toBe('');
    expectTiling(t, r);
  });

  it('is invalid with a search after the answer', () => {
    const r = '<answer>x</answer><search>q</search><information>i</information>';
    const t = parseTrajectory(r);
    expect(t.valid).toBe(false);
    expect(t.issues.join(' ')).toMatch(/search> after the answer/);
    expect(t.answer).toBe('x');
    expect(t.steps).toHaveLength(1);
    expectTiling(t, r);
  });

  it('is invalid with text after the answer or with two answers', () => {
    expect(parseTrajectory('<answer>x</answer> trailing').valid).toBe(false);
    expect(parseTrajectory('<answer>x</answer>  \n ').valid).toBe(true);
    const two = parseTrajectory('<answer>x</answer><answer>y</answer>');
    expect(two.valid).toBe(false);
    expect(two.answer).toBe('y');
  });

  it('is invalid with an unclosed think, but still sees the search inside it', () => {
    const r = '<think> maybe <search> q </search><information>i</information><answer>a</answer>';
    const t = parseTrajectory(r);
    expect(t.valid).toBe(false);
    expect(t.issues.join(' ')).toMatch(/unclosed <think>/);
    expect(t.steps).toHaveLength(1);
    expect(t.steps[0]?.reasoning).toBe('maybe');
    expect(t.steps[0]?.query).toBe('q');
    expect(t.answer).toBe('a');
  });

  it('does not count an unclosed search as a step', () => {
    const r = '<think>a</think><search> q1 </search><information>i</information><think>b</think><search> q2';
    const t = parseTrajectory(r);
    expect(t.steps).toHaveLength(1);
    expect(t.valid).toBe(false);
    expect(t.issues.join(' ')).toMatch(/unclosed <search>/);
    expect(t.finalReasoning).toBe('b');
    expectTiling(t, r);
  });

  it('ignores an unclosed trailing answer and reports it', () => {
    const t = parseTrajectory('<think>a</think><answer> x');
    expect(t.answer).toBeNull();
    expect(t.valid).toBe(false);
    expect(t.issues.join(' ')).toMatch(/unclosed <answer>/);
  });

  it('reports stray closing tags and information without a search', () => {
    const a = parseTrajectory('</think><answer>x</answer>');
    expect(a.valid).toBe(false);
    expect(a.issues.join(' ')).toMatch(/stray <\/think>/);
    const b = parseTrajectory('<information>i</information><answer>x</answer>');
    expect(b.valid).toBe(false);
    expect(b.issues.join(' ')).toMatch(/information> not directly after a search/);
    const c = parseTrajectory('<search>q</search> text <information>i</information><answer>x</answer>');
    expect(c.valid).toBe(false);
    expect(c.steps[0]?.information).toBeNull();
  });

  it('reports nested tags inside <answer> (extractAnswer keeps regex semantics)', () => {
    const t = parseTrajectory('<answer> a <answer> b </answer>');
    expect(t.valid).toBe(false);
    expect(t.answer).toBe('a <answer> b');
  });

  it('handles the empty string and text without tags', () => {
    const e = parseTrajectory('');
    expect(e.steps).toEqual([]);
    expect(e.answer).toBeNull();
    expect(e.valid).toBe(false);
    expect(e.finalSpan).toEqual({ start: 0, end: 0 });
    const f = parseTrajectory('just words');
    expect(f.finalReasoning).toBe('just words');
    expect(f.valid).toBe(false);
  });

  it('numbers four steps 1..4', () => {
    let r = '';
    for (let k = 1; k <= 4; k++) r += `<think>t${k}</think><search>q${k}</search><information>i${k}</information>`;
    r += '<think>done</think><answer>A</answer>';
    const t = parseTrajectory(r);
    expect(t.steps.map((s) => [s.index, s.reasoning, s.query, s.information])).toEqual([
      [1, 't1', 'q1', 'i1'],
      [2, 't2', 'q2', 'i2'],
      [3, 't3', 'q3', 'i3'],
      [4, 't4', 'q4', 'i4'],
    ]);
    expect(t.valid).toBe(true);
    expectTiling(t, r);
  });

  it('never throws on arbitrary strings, and spans always tile the text', () => {
    const pieces = [
      '<think>', '</think>', '<search>', '</search>', '<information>', '</information>', '<answer>', '</answer>',
      ' ', 'x', '\n', '<', '>', '</', 'é', '<answer', 'search>',
    ];
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let trial = 0; trial < 2000; trial++) {
      let r = '';
      const len = rand(20);
      for (let i = 0; i < len; i++) r += pieces[rand(pieces.length)];
      const t = parseTrajectory(r);
      expectTiling(t, r);
      expect(t.valid).toBe(t.issues.length === 0);
      for (const s of t.steps) {
        expect(r.slice(s.searchSpan.start, s.searchSpan.start + 8)).toBe('<search>');
        expect(r.slice(s.searchSpan.end - 9, s.searchSpan.end)).toBe('</search>');
      }
    }
  });
});
