// Number formatting for the views: one place decides how many digits a reward, an advantage or a time gets.

/** Fixed digits, '−' (U+2212) for negatives, '—' for missing values. */
export function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  const s = Math.abs(x).toFixed(digits);
  const zero = Number(s) === 0;
  return x < 0 && !zero ? `−${s}` : s;
}

/** Like fmt, with an explicit '+' on positive values (advantages, gains). */
export function fmtSigned(x: number | null | undefined, digits = 2): string {
  const s = fmt(x, digits);
  return x !== null && x !== undefined && Number.isFinite(x) && x > 0 && Number(Math.abs(x).toFixed(digits)) !== 0 ? `+${s}` : s;
}

/** Share in [0, 1] as a percentage. */
export function fmtPct(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : `${(x * 100).toFixed(digits)}%`;
}

/** Small and large magnitudes in scientific notation (learning rates, losses). */
export function fmtSci(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-2 && a < 1e4) return fmt(x, digits);
  return x.toExponential(Math.max(0, digits - 1)).replace('-', '−').replace('e−', 'e-');
}

/** Seconds as "0.8 s", "42 s", "3 min 05 s", "1 h 02 min". */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Byte counts for loading progress. */
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A token's text made visible: newlines and tabs shown as symbols, an empty token as ∅. */
export function visibleToken(text: string): string {
  if (text === '') return '∅';
  return text.replace(/\n/g, '⏎').replace(/\t/g, '⇥');
}
