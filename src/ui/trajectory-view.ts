// Trajectory viewer: the group of rollouts for one question. Each member shows its answer, the Discriminator's
// verdict with alpha, the Trimmer's cut distribution and chosen cut, the rewards (EM, process, their product) and
// the advantage; the opened member shows its steps (reasoning, query, retrieved passages with their label) and,
// when it was rejected, the discarded suffix beside the regenerated one. Text only, never HTML.
import type { RewardView, StepView, TrajectoryView as Traj } from '../rl/events.ts';
import { h, num, s, withTip } from './dom.ts';
import { fmt, fmtSigned } from './format.ts';
import type { GroupModel, Slot, StepModel } from './step-model.ts';
import { advantageFormula, groupModel, isHybrid, judgeOf, probeOf, regenerationOf, rewardFormula, trimOf } from './step-model.ts';

export interface TrajectoryViewHandlers {
  onOpen(id: string | null): void;
  onGroup(index: number): void;
}

const LABEL_TEXT: Record<string, string> = {
  useful: 'useful: brings a supporting passage not retrieved before',
  irrelevant: 'irrelevant: no supporting passage',
  redundant: 'redundant: its supporting passages were all retrieved before',
};

/** "step 1" or "steps 1..k". */
function stepsText(k: number): string {
  return k === 1 ? 'step 1' : `steps 1..${k}`;
}

function title(contents: string): { title: string; text: string } {
  const nl = contents.indexOf('\n');
  const head = nl >= 0 ? contents.slice(0, nl) : '';
  return { title: head.replace(/^"|"$/g, '') || '(untitled)', text: nl >= 0 ? contents.slice(nl + 1) : contents };
}

function labelChip(label: string | null, t: Traj, step: number, scored: boolean): HTMLElement {
  if (!label) return scored ? withTip(h('span', { class: 'chip muted' }, 'not scored'), `${t.id} was replaced by its regeneration, so only the original reward is known`) : h('span', { class: 'chip pending' }, 'label: after the reward phase');
  return withTip(h('span', { class: `chip label-${label}`, 'data-testid': 'step-label' }, label),
    `Process judge (gold evidence) on ${t.id}, step ${step}: ${LABEL_TEXT[label] ?? label}`);
}

function stepBlock(t: Traj, st: StepView, label: string | null, supporting: readonly string[], cls = '', scored = false): HTMLElement {
  const passages = h('ol', { class: 'passages' });
  st.passages.forEach((p, i) => {
    const { title: ti, text } = title(p.contents);
    const sup = supporting.includes(p.id);
    passages.append(h('li', { class: sup ? 'supporting' : '' },
      h('div', { class: 'p-head' },
        h('span', { class: 'p-title' }, `Doc ${i + 1} · ${ti}`),
        sup ? withTip(h('span', { class: 'chip sup' }, 'supporting'), `${p.id} is one of the question's supporting passages`) : '',
        num(`score ${fmt(p.score, 1)}`, `retrieval score of ${p.id} for the query of step ${st.index} (${t.id})`, 'numv score')),
      h('div', { class: 'p-text', 'data-testid': 'passage-text' }, text)));
  });
  return h('div', { class: `step ${cls}`, 'data-testid': 'traj-step', 'data-step': String(st.index) },
    h('div', { class: 'step-head' }, h('span', { class: 'step-no' }, `Step ${st.index}`), labelChip(label, t, st.index, scored)),
    st.reasoning ? h('p', { class: 'think' }, h('span', { class: 'tag' }, 'think'), st.reasoning) : '',
    h('p', { class: 'query' }, h('span', { class: 'tag' }, 'search'), h('span', { 'data-testid': 'query-text' }, st.query)),
    h('details', { class: 'info' }, h('summary', {}, `retrieved ${st.passages.length} passages`), passages));
}

function answerLine(t: Traj, r: RewardView | undefined, gold: readonly string[]): HTMLElement {
  const ok = r ? r.em === 1 : null;
  return h('p', { class: 'answer' }, h('span', { class: 'tag' }, 'answer'),
    h('span', { class: 'answer-text', 'data-testid': 'answer-text' }, t.answer ?? '(no answer)'),
    ok === null ? '' : withTip(h('span', { class: `chip ${ok ? 'ok' : 'bad'}` }, ok ? '✓ exact match' : '✗ no match'),
      `EM = ${ok ? 1 : 0}: normalize("${t.answer ?? ''}") ${ok ? 'equals' : 'differs from every'} gold answer (${gold.join(' | ')})`));
}

function labelsOf(t: Traj, r: RewardView | undefined): (string | null)[] {
  return t.steps.map((st, i) => st.label ?? r?.labels[i] ?? null);
}

function rewardChips(m: StepModel, t: Traj): HTMLElement {
  const r = m.rewards.get(t.id);
  const wrap = h('span', { class: 'rewards' });
  if (!r) {
    wrap.append(h('span', { class: 'chip pending' }, 'reward: pending'));
    return wrap;
  }
  const hybrid = isHybrid(m);
  const formula = rewardFormula(r, hybrid);
  wrap.append(
    num(`EM ${r.em}`, `${t.id}: exact match of the answer with a gold answer (F1 ${fmt(r.f1)})`, 'numv', 'em'),
    num(`process ${fmt(r.process)}`, `${t.id}: ${formula.split('\n')[0]}\nlabels: ${r.labels.join(', ') || 'none'}`, 'numv'),
    num(`R ${fmt(r.reward)}`, `${t.id}: ${formula}`, 'numv strong', 'reward'),
  );
  const a = m.advantages.get(t.id);
  if (a) {
    const g = m.groups.find((x) => x.finalIds.includes(t.id)) ?? null;
    wrap.append(num(`A ${fmtSigned(a.advantage)}`, `${t.id}: ${advantageFormula(t.id, r, g, a)}`, `numv strong ${a.advantage >= 0 ? 'pos' : 'neg'}`, 'advantage'));
  }
  return wrap;
}

function judgeChip(m: StepModel, id: string): HTMLElement | string {
  const d = judgeOf(m, id);
  if (!d) return m.done.includes('judge') ? (m.skipped.includes('judge') ? h('span', { class: 'chip muted' }, 'no refiner') : '') : h('span', { class: 'chip pending' }, 'judge: pending');
  const why = d.draw === null ? `alpha ${d.accept ? '≥' : '<'} tau (evaluation threshold)` : `draw ${fmt(d.draw, 2)} ${d.accept ? '<' : '≥'} alpha → ${d.accept ? 'accept' : 'reject'} (training samples the decision)`;
  return withTip(h('span', { class: `chip ${d.accept ? 'ok' : 'bad'}`, 'data-testid': 'judge' }, `${d.accept ? 'Accepted' : 'Rejected'} · α = ${fmt(d.alpha)}`),
    `Discriminator on ${id}, round ${d.round}: alpha = P(<accept>) = ${fmt(d.alpha, 3)}; ${why}`);
}

/** The Trimmer's cut distribution over k = 0..K as a small bar chart, the chosen cut highlighted. */
function cutChart(id: string, probs: readonly number[], cut: number): SVGSVGElement {
  const bw = 22;
  const H = 46;
  const svg = s('svg', { class: 'cutchart', width: probs.length * (bw + 6) + 6, height: H + 16, role: 'img', 'aria-label': `Trimmer cut distribution for ${id}, chosen cut ${cut}`, 'data-testid': 'cut-chart' });
  probs.forEach((p, k) => {
    const bh = Math.max(1, p * H);
    const x = 6 + k * (bw + 6);
    const bar = s('rect', { x, y: H - bh, width: bw, height: bh, class: k === cut ? 'bar chosen' : 'bar', tabindex: 0 });
    withTip(bar, `Trimmer on ${id}: P(cut = ${k}) = ${fmt(p, 3)}${k === cut ? ' (chosen)' : ''}\ncut ${k}: ${k === 0 ? 'keep no step' : `keep ${stepsText(k)}`}, regenerate from step ${k + 1}`, false);
    svg.append(bar, s('text', { x: x + bw / 2, y: H + 13, 'text-anchor': 'middle', class: 'axis' }, String(k)));
  });
  return svg;
}

function trajBody(m: StepModel, t: Traj, gm: GroupModel, from = 1, cls = ''): HTMLElement {
  const r = m.rewards.get(t.id);
  const labels = labelsOf(t, r);
  const box = h('div', { class: 'traj-body' });
  const scored = m.done.includes('reward');
  for (const st of t.steps) if (st.index >= from) box.append(stepBlock(t, st, labels[st.index - 1], gm.question.supportingIds, cls, scored));
  box.append(answerLine(t, r, gm.question.goldenAnswers));
  return box;
}

/** The response exactly as generated (tags included), for trajectories the parser could not split into steps too. */
function rawResponse(t: Traj, what = ''): HTMLElement {
  const flags = [t.valid ? 'well-formed' : 'not well-formed', t.truncated ? 'truncated' : '', `finished by ${t.finish}`].filter(Boolean).join(', ');
  return h('details', { class: 'raw' }, h('summary', {}, `raw response${what ? ` (${what})` : ''}: ${t.tokens.length} tokens, ${flags}`),
    h('pre', { class: 'raw-text' }, t.response || '(empty)'));
}

function slotCard(m: StepModel, gm: GroupModel, slot: Slot, open: boolean, handlers: TrajectoryViewHandlers): HTMLElement {
  const orig = slot.chain[0];
  const fin = slot.final;
  const regenerated = slot.chain.length > 1;
  const rejected = regenerated || judgeOf(m, orig.id)?.accept === false;
  const toggle = h('button', { type: 'button', class: 'open-traj', 'aria-expanded': String(open), 'data-testid': 'open-traj' },
    `${open ? '▾' : '▸'} Rollout ${slot.index + 1}`);
  toggle.addEventListener('click', () => handlers.onOpen(open ? null : orig.id));
  const head = h('div', { class: 'card-head' }, toggle,
    h('span', { class: 'card-answer' }, '→ ', h('span', { class: 'answer-text' }, fin.answer ?? '(no answer)')),
    judgeChip(m, orig.id),
    rewardChips(m, fin));
  const card = h('article', { class: `traj-card${rejected ? ' rejected' : ''}${open ? ' open' : ''}`, 'data-testid': 'traj-card', 'data-traj-id': orig.id }, head);
  const trim = trimOf(m, orig.id);
  if (trim) {
    card.append(h('div', { class: 'trim-row' },
      h('span', { class: 'trim-label' }, `Trimmer: cut at k = ${trim.cut}`,
        h('span', { class: 'hint' }, trim.cut === 0 ? ' (keep no step, regenerate from step 1)' : ` (keep ${stepsText(trim.cut)}, regenerate from step ${trim.cut + 1})`)),
      cutChart(orig.id, trim.probs, trim.cut)));
  }
  if (!open) return card;
  if (!regenerated) {
    card.append(trajBody(m, orig, gm), rawResponse(orig));
    return card;
  }
  const reg = regenerationOf(m, orig.id);
  const cut = reg?.cut ?? fin.keptSteps ?? 0;
  const kept = h('div', { class: 'kept' }, h('h4', {}, cut === 0 ? 'Kept prefix: none (cut at 0)' : `Kept prefix: ${stepsText(cut)}`));
  for (const st of orig.steps) if (st.index <= cut) kept.append(stepBlock(orig, st, labelsOf(fin, m.rewards.get(fin.id))[st.index - 1] ?? null, gm.question.supportingIds));
  const rOrig = m.rewards.get(fin.id)?.originalReward;
  card.append(kept, h('div', { class: 'sidebyside' },
    h('div', { class: 'discarded', 'data-testid': 'discarded' },
      h('h4', {}, 'Discarded suffix (original)', rOrig === undefined ? '' : num(` R ${fmt(rOrig)}`, `reward of the original ${orig.id} before the refiner`, 'numv')),
      trajBody(m, orig, gm, cut + 1, 'struck')),
    h('div', { class: 'regenerated', 'data-testid': 'regenerated' },
      h('h4', {}, `Regenerated (revision ${fin.revision})`, m.rewards.get(fin.id) ? num(` R ${fmt(m.rewards.get(fin.id)?.reward)}`, `${fin.id}: ${rewardFormula(m.rewards.get(fin.id) as RewardView, isHybrid(m))}`, 'numv') : ''),
      trajBody(m, fin, gm, cut + 1))));
  card.append(rawResponse(orig, 'original'), rawResponse(fin, `revision ${fin.revision}`));
  const probe = probeOf(m, orig.id);
  if (probe) card.append(h('p', { class: 'hint' }, 'The counterfactual gain over every cut point is in the Credit view.'));
  return card;
}

export class TrajectoryViewer {
  readonly element: HTMLElement;
  private body = h('div', { class: 'traj-group' });

  constructor(private readonly handlers: TrajectoryViewHandlers) {
    this.element = h('div', {}, this.body);
  }

  render(m: StepModel | null, groupIndex: number, openId: string | null): void {
    if (!m || m.questions.length === 0) {
      this.body.replaceChildren(h('p', { class: 'empty' }, m ? 'The rollout phase has not run yet for this step.' : 'No step to show yet.'));
      return;
    }
    const gi = Math.min(groupIndex, m.questions.length - 1);
    const gm = groupModel(m, gi);
    if (!gm) return;
    const q = gm.question;
    const nav = h('div', { class: 'group-nav' });
    if (m.questions.length > 1) {
      const prev = h('button', { type: 'button', 'aria-label': 'previous question' }, '‹');
      const next = h('button', { type: 'button', 'aria-label': 'next question' }, '›');
      prev.disabled = gi === 0;
      next.disabled = gi >= m.questions.length - 1;
      prev.addEventListener('click', () => this.handlers.onGroup(gi - 1));
      next.addEventListener('click', () => this.handlers.onGroup(gi + 1));
      nav.append(prev, h('span', {}, `question ${gi + 1} of ${m.questions.length}`), next);
    }
    const defaultOpen = gm.slots.find((sl) => sl.chain.length > 1)?.chain[0].id ?? gm.slots[0]?.chain[0].id ?? null;
    const open = openId !== null && gm.slots.some((sl) => sl.chain.some((t) => t.id === openId)) ? openId : defaultOpen;
    const g = gm.group;
    this.body.replaceChildren(
      h('div', { class: 'question' },
        h('div', { class: 'q-meta' }, nav, h('span', { class: 'chip muted' }, `${q.split} · ${q.hops} hop${q.hops === 1 ? '' : 's'}`), h('span', { class: 'q-id' }, q.id)),
        h('p', { class: 'q-text', 'data-testid': 'question-text' }, q.question),
        h('p', { class: 'gold' }, 'Gold answers: ', h('span', { 'data-testid': 'gold-answers' }, q.goldenAnswers.join(' | '))),
        g ? h('p', { class: 'hint' }, 'Group: ', num(`mean R ${fmt(g.mean)}`, `mean of the ${g.finalIds.length} final rewards (${(isHybrid(m) ? g.hybridRewards : g.emRewards).map((x) => fmt(x)).join(', ')})`, 'numv'), ' · ',
          num(`std ${fmt(g.std)}`, 'unbiased standard deviation of the final rewards in the group', 'numv')) : ''),
      ...gm.slots.map((sl) => slotCard(m, gm, sl, sl.chain.some((t) => t.id === open), this.handlers)));
  }
}
