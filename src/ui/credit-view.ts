// Credit view: how the reward becomes credit on every token. The sparse EM reward and the hybrid reward side by
// side for the group, every final trajectory's tokens painted with its advantage (or its per-token loss
// contribution) on a diverging scale with a legend, and the counterfactual gain curve over cut points of each
// rejected trajectory. Every number and token has a provenance tooltip; tokens are one tab stop per trajectory,
// arrow keys move between them.
import { h, num, s, withTip } from './dom.ts';
import { divergingRgb, legendStops, maxAbs, rgbCss, textOn } from './colour.ts';
import { fmt, fmtSigned, visibleToken } from './format.ts';
import type { StepModel } from './step-model.ts';
import { groupModel, isHybrid, probeOf, tokenTip, tokenValues, trimOf } from './step-model.ts';

export interface CreditViewHandlers {
  onColour(c: 'advantage' | 'loss'): void;
}

function legend(max: number, what: string): HTMLElement {
  const stops = legendStops(max, 7);
  return h('div', { class: 'legend', 'data-testid': 'legend', role: 'img', 'aria-label': `${what} colour scale from ${fmt(-max)} to ${fmt(max)}` },
    h('span', { class: 'legend-label' }, what),
    ...stops.map((st) => {
      const bg = st.colour;
      const el = h('span', { class: 'legend-stop' }, fmtSigned(st.value, max < 0.1 ? 3 : 2));
      el.style.background = rgbCss(bg);
      el.style.color = rgbCss(textOn(bg));
      return el;
    }),
    h('span', { class: 'legend-label hint' }, 'grey outline: retrieved text, masked out of the loss'));
}

function rewardBars(values: readonly number[], max: number, cls: string, label: (i: number) => string): HTMLElement {
  return h('div', { class: 'rbars' }, ...values.map((v, i) => {
    const bar = h('span', { class: `rbar ${cls}` });
    bar.style.width = `${Math.max(2, (v / Math.max(max, 1e-9)) * 100)}%`;
    return h('div', { class: 'rbar-row' }, h('span', { class: 'rbar-k' }, `#${i + 1}`), h('span', { class: 'rbar-track' }, bar), num(fmt(v), label(i), 'numv'));
  }));
}

function gainCurve(id: string, gains: readonly (number | null)[], cut: number | undefined, samples: number): SVGSVGElement {
  const W = 280;
  const H = 120;
  const pad = { l: 34, r: 8, t: 10, b: 24 };
  const vals = gains.filter((g): g is number => g !== null);
  const max = Math.max(0.1, ...vals.map(Math.abs));
  const x = (k: number): number => pad.l + ((W - pad.l - pad.r) * (k + 0.5)) / Math.max(1, gains.length);
  const y = (v: number): number => pad.t + ((H - pad.t - pad.b) * (max - v)) / (2 * max);
  const svg = s('svg', { class: 'gain', width: W, height: H, role: 'img', 'aria-label': `counterfactual gain over cut points for ${id}`, 'data-testid': 'gain-curve' });
  svg.append(s('line', { x1: pad.l, x2: W - pad.r, y1: y(0), y2: y(0), class: 'zero' }));
  svg.append(s('text', { x: pad.l - 4, y: y(max) + 4, 'text-anchor': 'end', class: 'axis' }, fmtSigned(max, 1)));
  svg.append(s('text', { x: pad.l - 4, y: y(0) + 4, 'text-anchor': 'end', class: 'axis' }, '0'));
  svg.append(s('text', { x: pad.l - 4, y: y(-max) + 4, 'text-anchor': 'end', class: 'axis' }, fmtSigned(-max, 1)));
  let d = '';
  gains.forEach((g, k) => {
    svg.append(s('text', { x: x(k), y: H - 8, 'text-anchor': 'middle', class: 'axis' }, `k=${k}`));
    if (g === null) return;
    d += `${d ? 'L' : 'M'}${x(k).toFixed(1)},${y(g).toFixed(1)}`;
  });
  svg.append(s('path', { d, class: 'gain-line' }));
  gains.forEach((g, k) => {
    if (g === null) return;
    const dot = s('circle', { cx: x(k), cy: y(g), r: k === cut ? 6 : 4, class: k === cut ? 'dot chosen' : 'dot', tabindex: 0 });
    withTip(dot, `${id}: G(${k}) = E[R | cut at ${k}] − R_original = ${fmtSigned(g, 3)} (mean of ${samples} regenerations from step ${k + 1})${k === cut ? '\nthe Trimmer chose this cut' : ''}`, false);
    svg.append(dot);
  });
  return svg;
}

export class CreditView {
  readonly element: HTMLElement;
  private body = h('div', {});
  private toggle: HTMLFieldSetElement;
  private radios: Record<'advantage' | 'loss', HTMLInputElement>;

  constructor(private readonly handlers: CreditViewHandlers) {
    const mk = (v: 'advantage' | 'loss', text: string): [HTMLInputElement, HTMLLabelElement] => {
      const input = h('input', { type: 'radio', name: 'colouring', value: v, id: `colour-${v}` });
      input.addEventListener('change', () => input.checked && this.handlers.onColour(v));
      return [input, h('label', { for: `colour-${v}` }, input, ` ${text}`)];
    };
    const [ra, la] = mk('advantage', 'advantage');
    const [rl, ll] = mk('loss', 'per-token loss contribution');
    this.radios = { advantage: ra, loss: rl };
    this.toggle = h('fieldset', { class: 'colouring' }, h('legend', {}, 'Colour tokens by'), la, ll);
    this.element = h('div', {}, this.toggle, this.body);
  }

  render(m: StepModel | null, groupIndex: number, colour: 'advantage' | 'loss'): void {
    this.radios[colour].checked = true;
    if (!m || !m.questions.length) {
      this.body.replaceChildren(h('p', { class: 'empty' }, 'No step to show yet.'));
      return;
    }
    const gm = groupModel(m, Math.min(groupIndex, m.questions.length - 1));
    if (!gm) return;
    const parts: (HTMLElement | string)[] = [];
    const g = gm.group;
    // Rewards side by side.
    if (g) {
      const max = Math.max(1, ...g.hybridRewards, ...g.emRewards);
      const used = isHybrid(m) ? 'hybrid' : 'EM';
      parts.push(h('div', { class: 'reward-compare', 'data-testid': 'reward-compare' },
        h('div', {}, h('h4', {}, 'Sparse EM reward', used === 'EM' ? h('span', { class: 'chip ok' }, 'used') : ''),
          rewardBars(g.emRewards, max, 'em', (i) => `${g.finalIds[i]}: EM = ${g.emRewards[i]} (1 if the answer matches a gold answer)`),
          h('p', { class: 'hint' }, g.emRewards.every((x) => x === g.emRewards[0]) ? 'All equal: GRPO gets no signal from this group under EM.' : 'Correct answers get 1, whatever the searches were.')),
        h('div', {}, h('h4', {}, 'Hybrid reward EM × (1 + process)', used === 'hybrid' ? h('span', { class: 'chip ok' }, 'used') : ''),
          rewardBars(g.hybridRewards, max, 'hy', (i) => {
            const r = m.rewards.get(g.finalIds[i]);
            return `${g.finalIds[i]}: R = EM × (1 + process) = ${g.emRewards[i]} × (1 + ${fmt(r?.process)}) = ${fmt(g.hybridRewards[i])}`;
          }),
          h('p', { class: 'hint' }, g.hybridRewards.every((x) => x === g.hybridRewards[0]) ? 'All equal: no signal from this group either.' : 'Correct answers reached with useful searches get more credit.'))));
    } else parts.push(h('p', { class: 'hint' }, 'Rewards and advantages appear after the reward and advantage phases.'));
    // Tokens.
    const finals = gm.slots.map((sl) => sl.final);
    const all = finals.flatMap((t) => tokenValues(m, t, colour));
    const max = maxAbs(all);
    const haveLoss = finals.some((t) => (m.advantages.get(t.id)?.tokenLoss.length ?? 0) > 0);
    const what = colour === 'advantage' ? 'advantage' : 'loss contribution';
    parts.push(h('h4', {}, `Final trajectories, tokens coloured by ${what}`));
    if (colour === 'loss' && !haveLoss) parts.push(h('p', { class: 'hint' }, 'Per-token loss contributions are filled in by the update phase.'));
    if (m.advantages.size && max < 1e-6)
      parts.push(h('p', { class: 'notice-inline', 'data-testid': 'no-signal' }, colour === 'advantage'
        ? 'Every final trajectory of this group got the same reward, so every advantage is 0: GRPO learns nothing from this question.'
        : 'No token of this group contributes to the loss (all advantages are 0, or the update phase has not run).'));
    else if (m.advantages.size) parts.push(legend(max, what));
    for (const t of finals) {
      const vals = tokenValues(m, t, colour);
      const a = m.advantages.get(t.id);
      const line = h('div', { class: 'tokens', role: 'group', 'aria-label': `tokens of ${t.id}`, 'data-testid': 'token-line', 'data-traj-id': t.id });
      t.tokens.forEach((tok, i) => {
        const el = h('span', { class: tok.policy ? 'tok' : 'tok obs', tabindex: i === 0 ? '0' : '-1', 'data-i': String(i), 'data-testid': 'token' });
        el.textContent = visibleToken(tok.text);
        if (tok.policy && a) {
          const bg = divergingRgb(vals[i], max);
          el.style.background = rgbCss(bg);
          el.style.color = rgbCss(textOn(bg));
        }
        el.setAttribute('data-tip', tokenTip(t, i, m, g, colour));
        line.append(el);
      });
      line.addEventListener('keydown', (e) => {
        const cur = e.target instanceof HTMLElement ? Number(e.target.dataset.i) : NaN;
        if (!Number.isFinite(cur)) return;
        const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : e.key === 'Home' ? -cur : e.key === 'End' ? t.tokens.length - 1 - cur : 0;
        if (!step) return;
        e.preventDefault();
        const next = line.children[Math.max(0, Math.min(t.tokens.length - 1, cur + step))] as HTMLElement | undefined;
        if (!next) return;
        (line.children[cur] as HTMLElement).tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      });
      const r = m.rewards.get(t.id);
      parts.push(h('div', { class: 'token-block' },
        h('div', { class: 'token-head' }, h('strong', {}, `Rollout ${t.group + 1}`), h('span', { class: 'q-id' }, t.id),
          r ? num(`R ${fmt(r.reward)}`, `${t.id}: reward ${fmt(r.reward)} (EM ${r.em}, process ${fmt(r.process)})`, 'numv') : '',
          a ? num(`A ${fmtSigned(a.advantage)}`, `${t.id}: sequence advantage, the same on every policy token`, `numv ${a.advantage >= 0 ? 'pos' : 'neg'}`) : ''),
        line));
    }
    // Counterfactual gain curves.
    const probes = gm.slots.map((sl) => ({ sl, p: probeOf(m, sl.chain[0].id) })).filter((x) => x.p);
    if (!probes.length && m.done.includes('regenerate') && m.regenerations.length)
      parts.push(h('h4', {}, 'Counterfactual gain over cut points'),
        h('p', { class: 'hint', 'data-testid': 'no-probes' }, 'Not measured in this step: set Settings → Counterfactual probes above 0 to regenerate every rejected trajectory from every cut point and plot the gain.'));
    if (probes.length) {
      parts.push(h('h4', {}, 'Counterfactual gain over cut points'),
        h('p', { class: 'hint' }, 'For a rejected trajectory, the trainer regenerated from every cut point k and measured the mean gain G(k) over the original reward. A good Trimmer picks the k with the largest gain.'));
      const row = h('div', { class: 'gains' });
      for (const { sl, p } of probes) {
        if (!p) continue;
        row.append(h('figure', {}, gainCurve(p.trajectoryId, p.gains, trimOf(m, p.trajectoryId)?.cut, p.samples), h('figcaption', {}, `Rollout ${sl.index + 1} (${p.trajectoryId}), original R ${fmt(p.originalReward)}`)));
      }
      parts.push(row);
    }
    this.body.replaceChildren(...parts);
  }
}
