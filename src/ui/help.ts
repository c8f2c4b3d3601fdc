// The help dialog: what the page shows, in plain words, and the keyboard shortcuts.
import { h } from './dom.ts';

export const SHORTCUTS: [string, string][] = [
  ['Space', 'play / pause training'],
  ['s', 'one whole GRPO step'],
  ['p', 'the next phase of the step'],
  ['r', 'reset to the warm-start policy'],
  ['?', 'this help'],
  ['← / →', 'previous / next panel (presentation mode)'],
  ['← / → on a token', 'move between tokens (credit view)'],
  ['Esc', 'close this dialog or a tooltip'],
];

export function helpDialog(): HTMLDialogElement {
  const close = h('button', { type: 'button', class: 'primary', autofocus: '' }, 'Close');
  const dl = h('dl', { class: 'shortcuts' });
  for (const [k, v] of SHORTCUTS) dl.append(h('dt', {}, h('kbd', {}, k)), h('dd', {}, v));
  const d = h('dialog', { class: 'help', 'aria-labelledby': 'help-title', 'data-testid': 'help-dialog' },
    h('h2', { id: 'help-title' }, 'How to read this page'),
    h('ol', {},
      h('li', {}, h('strong', {}, 'Rollout. '), 'The Actor (a small transformer) answers a question by thinking, searching a small Wikipedia and answering. It writes a group of G trajectories for the same question.'),
      h('li', {}, h('strong', {}, 'Judge. '), 'The Discriminator (same weights, another prompt) gives each trajectory a probability α of being sound and accepts or rejects it.'),
      h('li', {}, h('strong', {}, 'Trim and regenerate. '), 'For a rejected trajectory the Trimmer picks the cut k: steps 1..k are kept, the rest is discarded and the Actor writes a new continuation.'),
      h('li', {}, h('strong', {}, 'Reward. '), 'EM is 1 when the answer matches a gold answer. The process reward is the share of searches that found a new supporting passage. Hybrid reward R = EM × (1 + process).'),
      h('li', {}, h('strong', {}, 'Advantage and update. '), 'GRPO compares rewards within the group: A = (R − mean) / std, painted on every generated token; retrieved text is masked out. The update raises the probability of tokens with positive advantage.')),
    h('p', {}, 'Hover or focus any number or token to see where it came from.'),
    h('h3', {}, 'Keyboard shortcuts'), dl,
    h('p', { class: 'hint' }, 'Links keep everything in the address: ?hide=charts,runs hides panels, ?present=1 shows one panel at a time in large type, ?model=tiny uses the fastest policy.'),
    h('form', { method: 'dialog' }, close));
  return d;
}
