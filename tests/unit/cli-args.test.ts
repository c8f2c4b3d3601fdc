// The CLI's shared option parsers (src/cli/args.ts): values, defaults, and errors that name the option and the text.
import { describe, expect, it } from 'vitest';
import { integerOption, option, positiveNumberOption } from '../../src/cli/args.ts';

describe('option', () => {
  it('reads the value after the flag; refuses a flag without one', () => {
    expect(option(['--out', 'x', '--seed', '3'], 'seed')).toBe('3');
    expect(option(['--out', 'x'], 'seed')).toBeUndefined();
    expect(() => option(['--seed'], 'seed')).toThrow('option --seed needs a value');
    expect(() => option(['--seed', '--out', 'x'], 'seed')).toThrow('option --seed needs a value');
  });
});

describe('integerOption', () => {
  it('parses whole numbers at or above the minimum, else the default', () => {
    expect(integerOption(['--steps', '12'], 'steps', 5)).toBe(12);
    expect(integerOption(['--steps', '0'], 'steps', 5)).toBe(0);
    expect(integerOption([], 'steps', 5)).toBe(5);
    expect(integerOption([], 'steps', undefined, 1)).toBeUndefined();
    expect(integerOption(['--seeds', '1'], 'seeds', 3, 1)).toBe(1);
  });
  it.each([
    ['-1', 0],
    ['1.5', 0],
    ['1e3', 0],
    ['', 0],
    ['ten', 0],
    ['0', 1],
    ['99999999999999999999', 0],
  ])('refuses "%s" (min %d), naming the option and the text', (text, min) => {
    expect(() => integerOption(['--steps', text], 'steps', 5, min)).toThrow(`--steps must be an integer >= ${min}, got "${text}"`);
  });
});

describe('positiveNumberOption', () => {
  it('parses positive finite numbers; refuses the rest', () => {
    expect(positiveNumberOption(['--lr', '1e-4'], 'lr', 2e-5)).toBe(1e-4);
    expect(positiveNumberOption([], 'lr', 2e-5)).toBe(2e-5);
    for (const t of ['0', '-1', 'fast', 'Infinity']) expect(() => positiveNumberOption(['--lr', t], 'lr', 1)).toThrow(`--lr must be a positive number, got "${t}"`);
  });
});
