// The GRPO-update case of the rollout benchmark (src/bench/rollout-bench.ts) on the tiny preset: it runs end to end,
// prints one contract line (DESIGN 9) whose two sides did the same update (the case aborts otherwise), and counts
// the policy tokens it scored against the response tokens it would have scored before.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/bench/rollout-bench.ts';

afterEach(() => vi.restoreAllMocks());

describe('rollout-bench grpo-update', () => {
  it('prints one line with both sides timed on the same update', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['--preset', 'tiny', '--questions', '2', '--group', '2', '--turns', '2', '--turn-tokens', '6', '--filter', 'grpo-update']);
    expect(code).toBe(0);
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    const l = lines[0] as { case: string; backend: string; ours: number; anchor_value: number; ratio: number; unit: string; sequences: number; policy_tokens: number; response_tokens: number };
    expect(l.case).toBe('grpo-update tiny');
    expect(l.backend).toBe('cpu');
    expect(l.unit).toBe('ms');
    expect(l.sequences).toBe(4);
    expect(l.ours).toBeGreaterThan(0);
    expect(l.anchor_value).toBeGreaterThan(0);
    expect(l.ratio).toBeCloseTo(l.anchor_value / l.ours, 2);
    expect(l.policy_tokens).toBeGreaterThan(0);
    expect(l.policy_tokens).toBeLessThan(l.response_tokens);
  }, 120_000);
});
