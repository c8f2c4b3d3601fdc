// One tooltip for the whole page: any element with data-tip shows it on hover and on keyboard focus, as text.
// Escape hides it. The tip explains where a number came from (trajectory id, step, token, formula with values).

export function installTooltips(doc: Document = document): HTMLElement {
  const tip = doc.createElement('div');
  tip.id = 'tooltip';
  tip.setAttribute('role', 'tooltip');
  tip.setAttribute('data-testid', 'tooltip');
  tip.hidden = true;
  doc.body.append(tip);
  let current: Element | null = null;

  const show = (el: Element): void => {
    const text = el.getAttribute('data-tip');
    if (!text) return;
    if (current && current !== el) current.removeAttribute('aria-describedby');
    current = el;
    el.setAttribute('aria-describedby', 'tooltip');
    tip.textContent = text;
    tip.hidden = false;
    const r = el.getBoundingClientRect();
    const w = Math.min(440, window.innerWidth - 16);
    tip.style.maxWidth = `${w}px`;
    const tr = tip.getBoundingClientRect();
    let left = r.left + r.width / 2 - tr.width / 2;
    left = Math.max(8, Math.min(left, window.innerWidth - tr.width - 8));
    let top = r.bottom + 8;
    if (top + tr.height > window.innerHeight - 8) top = Math.max(8, r.top - tr.height - 8);
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  };
  const hide = (el?: Element | null): void => {
    if (el && current && el !== current) return;
    current?.removeAttribute('aria-describedby');
    current = null;
    tip.hidden = true;
  };
  const target = (e: Event): Element | null => (e.target instanceof Element ? e.target.closest('[data-tip]') : null);
  doc.addEventListener('pointerover', (e) => {
    const el = target(e);
    if (el) show(el);
  });
  doc.addEventListener('pointerout', (e) => {
    const el = target(e);
    const to = (e as PointerEvent).relatedTarget;
    if (el && !(to instanceof Node && el.contains(to))) hide(el);
  });
  doc.addEventListener('focusin', (e) => {
    const el = target(e);
    if (el) show(el);
    else hide();
  });
  doc.addEventListener('focusout', (e) => hide(target(e)));
  doc.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !tip.hidden) hide();
  });
  window.addEventListener('scroll', () => hide(), { passive: true });
  return tip;
}
