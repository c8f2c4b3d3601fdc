// Relation-balanced sampling helpers (src/agent/balance.ts, grouping from src/world/random.ts): grouping, chain keys,
// tempered group probabilities, the group a uniform draw picks, and round-robin selection; hand-computed values.
import { describe, expect, it } from 'vitest';
import { pickGroup, relationChainKey, roundRobinByGroup, temperedCumulative } from '../../src/agent/balance.ts';
import { groupBy } from '../../src/world/random.ts';

describe('balance', () => {
  it('groupBy keeps each group in input order, groups in key order', () => {
    expect(groupBy(['b1', 'a1', 'b2', 'c1', 'a2'], (x) => x[0])).toEqual([
      { key: 'a', items: ['a1', 'a2'] },
      { key: 'b', items: ['b1', 'b2'] },
      { key: 'c', items: ['c1'] },
    ]);
    expect(groupBy([], (x: string) => x)).toEqual([]);
    expect(relationChainKey('hotpotqa', { relations: ['located_in', 'capital'] })).toBe('hotpotqa:located_in/capital');
  });

  it('temperedCumulative: sizes 90 and 10 give 0.5/0.5 at alpha 0, 0.75/0.25 at 0.5, 0.9/0.1 at 1', () => {
    expect(temperedCumulative([90, 10], 0)).toEqual([0.5, 1]);
    const half = temperedCumulative([90, 10], 0.5);
    expect(half[0]).toBeCloseTo(0.75, 12);
    expect(half[1]).toBeCloseTo(1, 12);
    expect(temperedCumulative([90, 10], 1)[0]).toBeCloseTo(0.9, 12);
    expect(() => temperedCumulative([1], 1.5)).toThrow(/balance alpha must be in \[0, 1\], got 1.5/);
    expect(() => temperedCumulative([1], Number.NaN)).toThrow(/got NaN/);
  });

  it('pickGroup: the first group whose cumulative share exceeds u; the last against rounding', () => {
    const c = [0.25, 0.75, 1];
    expect(pickGroup(c, 0)).toBe(0);
    expect(pickGroup(c, 0.25)).toBe(1);
    expect(pickGroup(c, 0.7499)).toBe(1);
    expect(pickGroup(c, 0.99)).toBe(2);
    expect(pickGroup([0.5, 0.9999999], 0.99999995)).toBe(1);
  });

  it('roundRobinByGroup takes one item per group in turn from an offset, up to n', () => {
    const items = ['a0', 'b0', 'a1', 'a2', 'b1', 'a3', 'a4'];
    const g = (x: string): string => x[0];
    expect(roundRobinByGroup(items, g, 5)).toEqual(['a0', 'b0', 'a1', 'b1', 'a2']);
    expect(roundRobinByGroup(items, g, 5, 1)).toEqual(['a1', 'b1', 'a2', 'b0', 'a3']);
    expect(roundRobinByGroup(items, g, 100).sort()).toEqual([...items].sort());
    expect(roundRobinByGroup([], g, 3)).toEqual([]);
  });
});
