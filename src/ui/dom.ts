// A tiny element builder: h('div', { class: 'x' }, child, 'text'). Strings become text nodes (never HTML): every
// question, passage and trajectory is shown through here or textContent, so imported markup stays inert.
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: (Node | string)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** A number (or any short value) that explains itself: focusable, with a provenance tooltip (see tooltip.ts). */
export function num(text: string, tip: string, cls = 'numv', testid?: string): HTMLElement {
  const el = h('span', { class: cls, tabindex: '0', 'data-tip': tip });
  if (testid) el.setAttribute('data-testid', testid);
  el.textContent = text;
  return el;
}

/** Attaches a tooltip text to any element (and makes it focusable unless it already is). */
export function withTip<E extends Element>(el: E, tip: string, focusable = true): E {
  el.setAttribute('data-tip', tip);
  if (focusable && !el.hasAttribute('tabindex') && !(el instanceof HTMLButtonElement)) el.setAttribute('tabindex', '0');
  return el;
}

/** Saves text as a file (exports of runs and metrics). */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
