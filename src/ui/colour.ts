// Diverging colour scale for advantages and per-token loss: negative red, zero near-white, positive blue (RdBu
// hues, end points light enough that dark text keeps WCAG AA contrast, >= 4.5:1, on every value).

export interface Rgb { r: number; g: number; b: number }

const NEG: Rgb = { r: 224, g: 123, b: 106 }; // #e07b6a
const MID: Rgb = { r: 247, g: 247, b: 247 }; // #f7f7f7
const POS: Rgb = { r: 90, g: 162, b: 208 }; // #5aa2d0

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return { r: Math.round(a.r + (b.r - a.r) * t), g: Math.round(a.g + (b.g - a.g) * t), b: Math.round(a.b + (b.b - a.b) * t) };
}

/** t = value / maxAbs clamped to [-1, 1]; maxAbs <= 0 or a non-finite value gives the mid colour. */
export function divergingRgb(value: number, maxAbs: number): Rgb {
  if (!Number.isFinite(value) || !(maxAbs > 0)) return { ...MID };
  const t = Math.max(-1, Math.min(1, value / maxAbs));
  return t < 0 ? mix(MID, NEG, -t) : mix(MID, POS, t);
}

export function rgbCss(c: Rgb): string {
  return `rgb(${c.r}, ${c.g}, ${c.b})`;
}

/** WCAG relative luminance. */
export function luminance(c: Rgb): number {
  const ch = (v: number): number => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
}

export function contrastRatio(a: Rgb, b: Rgb): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const DARK: Rgb = { r: 29, g: 35, b: 48 };
const LIGHT: Rgb = { r: 255, g: 255, b: 255 };

/** Dark or white text, whichever contrasts more with the background. */
export function textOn(bg: Rgb): Rgb {
  return contrastRatio(bg, DARK) >= contrastRatio(bg, LIGHT) ? DARK : LIGHT;
}

/** The largest |v| over arrays (the scale's half-width), at least `floor` so an all-zero group stays white. */
export function maxAbs(values: Iterable<number>, floor = 1e-9): number {
  let m = floor;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/** Evenly spaced stops for a legend, from -maxAbs to +maxAbs. */
export function legendStops(max: number, n = 7): { value: number; colour: Rgb }[] {
  const out: { value: number; colour: Rgb }[] = [];
  for (let i = 0; i < n; i++) {
    const value = -max + (2 * max * i) / (n - 1);
    out.push({ value, colour: divergingRgb(value, max) });
  }
  return out;
}
