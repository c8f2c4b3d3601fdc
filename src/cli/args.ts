/** `--name value` and `--flag` options; throws on an option that takes a value but has none. */
export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`option --${name} needs a value`);
  return v;
}

/** A positive finite number option, or `dflt` when absent. */
export function positiveNumberOption(args: string[], name: string, dflt: number): number {
  const t = option(args, name);
  if (t === undefined) return dflt;
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${t}"`);
  return n;
}

/** A number in [0, max] (or (0, max] with `positive`), or `dflt` when absent; the error names the range. */
export function boundedNumberOption(args: string[], name: string, dflt: number, max: number, positive: boolean): number {
  const t = option(args, name);
  if (t === undefined) return dflt;
  const n = Number(t);
  if (t.trim() === '' || !Number.isFinite(n) || (positive ? n <= 0 : n < 0) || n > max)
    throw new Error(`--${name} must be a number in ${positive ? '(' : '['}0, ${max === Number.POSITIVE_INFINITY ? 'inf)' : `${max}]`}, got "${t}"`);
  return n;
}

/**
 * A whole-number option (digits only, a safe integer, at least `min`, default 0), or `dflt` when absent; the one
 * integer parser of the CLI's commands.
 */
export function integerOption(args: string[], name: string, dflt: number, min?: number): number;
export function integerOption(args: string[], name: string, dflt: undefined, min?: number): number | undefined;
export function integerOption(args: string[], name: string, dflt: number | undefined, min = 0): number | undefined {
  const t = option(args, name);
  if (t === undefined) return dflt;
  const n = Number(t);
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${t}"`);
  return n;
}
