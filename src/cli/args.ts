/** `--name value` and `--flag` options; throws on an option that takes a value but has none. */
export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`option --${name} needs a value`);
  return v;
}
