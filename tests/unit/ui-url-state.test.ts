import { describe, expect, it } from 'vitest';
import { configChanged, defaultState, parseUrlState, PRESETS, serializeUrlState, toTrainConfig } from '../../src/ui/url-state.ts';

describe('url-state', () => {
  it('parses an empty query to the defaults and serializes them to an empty string', () => {
    const { state, warnings } = parseUrlState('');
    expect(warnings).toEqual([]);
    expect(state).toEqual(defaultState());
    expect(serializeUrlState(state)).toBe('');
  });

  it('round-trips every field', () => {
    const s = { ...defaultState('search-r2-rev3'), model: 'tiny' as const, groupSize: 7, reward: 'em' as const, lr: 3e-4, judge: 'answer-containment' as const,
      seedInit: 4, seedData: 5, seedSampling: 6, backend: 'cpu' as const, probe: 2, hide: ['charts' as const, 'runs' as const], present: true, slide: 2, group: 3,
      traj: 'nq-train-9#2r1', colour: 'loss' as const };
    const q = serializeUrlState(s);
    expect(q).toContain('hide=charts,runs');
    const back = parseUrlState(q);
    expect(back.warnings).toEqual([]);
    expect(back.state).toEqual(s);
  });

  it('takes knobs from the preset and stores only what differs', () => {
    expect(defaultState('search-r1-x2').groupSize).toBe(10);
    expect(defaultState('search-r2-rev4').revisionLimit).toBe(4);
    expect(defaultState('search-r1').reward).toBe('em');
    expect(serializeUrlState(defaultState('search-r1-x2'))).toBe('?preset=search-r1-x2');
    expect(defaultState('search-r2', 'tiny').lr).toBe(1e-3);
    expect(serializeUrlState(defaultState('search-r2', 'tiny'))).toBe('?model=tiny');
    expect(parseUrlState('?model=tiny&lr=0.001').state).toEqual(defaultState('search-r2', 'tiny'));
    for (const p of PRESETS) expect(parseUrlState(serializeUrlState(defaultState(p))).state).toEqual(defaultState(p));
  });

  it('ignores invalid values with a warning each, keeping the valid ones', () => {
    const { state, warnings } = parseUrlState('?preset=nope&g=1&rev=9&lr=abc&seed_init=-3&model=tiny&hide=charts,bogus&present=maybe&colour=red&backend=cpu');
    expect(state.preset).toBe('search-r2');
    expect(state.groupSize).toBe(5);
    expect(state.revisionLimit).toBe(1);
    expect(state.lr).toBe(1e-3);
    expect(state.seedInit).toBe(0);
    expect(state.model).toBe('tiny');
    expect(state.backend).toBe('cpu');
    expect(state.hide).toEqual(['charts']);
    expect(state.present).toBe(false);
    expect(warnings).toHaveLength(8);
    expect(warnings.join('\n')).toMatch(/ignored g="1"/);
    expect(warnings.join('\n')).toMatch(/ignored hide="bogus"/);
  });

  it('rejects non-integers and scientific notation in integer fields, accepts it for lr', () => {
    const { state, warnings } = parseUrlState('g=5.5&seed_data=1e3&lr=1e-4');
    expect(state.groupSize).toBe(5);
    expect(state.seedData).toBe(0);
    expect(state.lr).toBe(1e-4);
    expect(warnings).toHaveLength(2);
  });

  it('maps to a TrainConfig; view-only fields do not change it', () => {
    const s = parseUrlState('preset=search-r1&model=tiny&seed_sampling=9').state;
    const c = toTrainConfig(s);
    expect(c).toMatchObject({ preset: 'search-r1', model: 'tiny', refiner: false, trainRefiner: false, reward: 'em', groupSize: 5, lr: 1e-3, probeSamples: 0, seeds: { init: 0, data: 0, sampling: 9 } });
    expect(toTrainConfig(defaultState('search-r2')).trainRefiner).toBe(true);
    expect(toTrainConfig(defaultState('search-r1+meta-refiner')).trainRefiner).toBe(false);
    expect(configChanged(s, { ...s, hide: ['runs'], present: true, traj: 'x', group: 1, colour: 'loss' })).toBe(false);
    expect(configChanged(s, { ...s, groupSize: 6 })).toBe(true);
  });
});
