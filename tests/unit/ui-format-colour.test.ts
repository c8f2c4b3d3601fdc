import { describe, expect, it } from 'vitest';
import { contrastRatio, divergingRgb, legendStops, maxAbs, textOn } from '../../src/ui/colour.ts';
import { fmt, fmtDuration, fmtPct, fmtSci, fmtSigned, visibleToken } from '../../src/ui/format.ts';

describe('formatters', () => {
  it('formats numbers with a real minus sign and dashes for missing values', () => {
    expect(fmt(1.234)).toBe('1.23');
    expect(fmt(-0.5, 1)).toBe('−0.5');
    expect(fmt(-0.0001)).toBe('0.00');
    expect(fmt(null)).toBe('—');
    expect(fmt(Number.NaN)).toBe('—');
    expect(fmtSigned(0.5)).toBe('+0.50');
    expect(fmtSigned(-0.5)).toBe('−0.50');
    expect(fmtSigned(0)).toBe('0.00');
    expect(fmtPct(0.256)).toBe('26%');
    expect(fmtSci(1e-5)).toBe('1.0e-5');
    expect(fmtSci(0.5)).toBe('0.50');
  });
  it('formats durations', () => {
    expect(fmtDuration(0.84)).toBe('0.8 s');
    expect(fmtDuration(42.2)).toBe('42 s');
    expect(fmtDuration(185)).toBe('3 min 05 s');
    expect(fmtDuration(3720)).toBe('1 h 02 min');
    expect(fmtDuration(null)).toBe('—');
  });
  it('makes whitespace tokens visible', () => {
    expect(visibleToken('a\n')).toBe('a⏎');
    expect(visibleToken('')).toBe('∅');
  });
});

describe('diverging colour scale', () => {
  it('is white-ish at zero, red below, blue above, clamped', () => {
    expect(divergingRgb(0, 1)).toEqual({ r: 247, g: 247, b: 247 });
    expect(divergingRgb(-1, 1)).toEqual({ r: 224, g: 123, b: 106 });
    expect(divergingRgb(5, 1)).toEqual({ r: 90, g: 162, b: 208 });
    const half = divergingRgb(0.5, 1);
    expect(half.b).toBeGreaterThan(half.r);
    expect(divergingRgb(1, 0)).toEqual({ r: 247, g: 247, b: 247 });
    expect(divergingRgb(Number.NaN, 1)).toEqual({ r: 247, g: 247, b: 247 });
  });
  it('picks a text colour with at least 4.5:1 contrast on every stop', () => {
    for (let v = -1; v <= 1; v += 0.05) {
      const bg = divergingRgb(v, 1);
      expect(contrastRatio(bg, textOn(bg))).toBeGreaterThanOrEqual(4.5);
    }
  });
  it('scales to the largest magnitude and builds a symmetric legend', () => {
    expect(maxAbs([0.2, -3, 1])).toBe(3);
    expect(maxAbs([])).toBeGreaterThan(0);
    const stops = legendStops(2, 5);
    expect(stops.map((s) => s.value)).toEqual([-2, -1, 0, 1, 2]);
  });
});
