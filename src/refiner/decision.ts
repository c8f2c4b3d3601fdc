// The next-token distribution after a control prompt (`<judge>` / `<trim>`), shared by the Discriminator and the
// Trimmer: [bos] + encode(prompt), the same tokenization as the SFT examples (src/agent/sft-data.ts
// decisionExample), one fp32 forward on the tape (thrown away), logits only at each prompt's last position, the
// full-vocabulary log-softmax read back. Prompts longer than the model's context keep their first HEAD_TOKENS tokens
// (the control token, the instruction and the question) and their last tokens (the end of the trajectory), with
// the middle dropped; `truncated` says so.
import { Tape } from '../engine/tape.ts';
import type { Ops } from '../engine/types.ts';
import type { Transformer } from '../model/transformer.ts';
import { microBatches } from '../rl/update.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';

export const HEAD_TOKENS = 64;

/** [bos] + encode(prompt), middle-cut to fit `context - 1` (room for the decision token). */
export function decisionPromptIds(tokenizer: PolicyTokenizer, prompt: string, context: number): { ids: Int32Array; truncated: boolean } {
  const enc = tokenizer.encode(prompt);
  const ids = new Int32Array(enc.length + 1);
  ids[0] = tokenizer.special.bos;
  ids.set(enc, 1);
  const max = context - 1;
  if (ids.length <= max) return { ids, truncated: false };
  const head = Math.min(HEAD_TOKENS, Math.floor(max / 2));
  const out = new Int32Array(max);
  out.set(ids.subarray(0, head), 0);
  out.set(ids.subarray(ids.length - (max - head)), head);
  return { ids: out, truncated: true };
}

/** Full-vocabulary log-probabilities of the token after each prompt. */
export async function nextTokenLogprobs(ops: Ops, model: Transformer, prompts: readonly Int32Array[], batchTokens = 4096): Promise<Float32Array[]> {
  const V = model.config.vocab;
  const out: Float32Array[] = prompts.map(() => new Float32Array(0));
  for (const group of microBatches(prompts.map((p) => p.length), batchTokens)) {
    const B = group.length;
    const T = Math.max(...group.map((i) => prompts[i].length));
    const ids = new Int32Array(B * T);
    const keyLengths = new Int32Array(B);
    const rows = new Int32Array(B);
    group.forEach((i, b) => {
      ids.set(prompts[i], b * T);
      keyLengths[b] = prompts[i].length;
      rows[b] = b * T + prompts[i].length - 1;
    });
    const tape = new Tape(ops);
    try {
      const logits = await ops.readF32(model.forward(tape, ids, B, T, { keyLengths, rows }).value);
      group.forEach((i, b) => {
        const row = logits.subarray(b * V, (b + 1) * V);
        let max = -Infinity;
        for (let c = 0; c < V; c++) if (row[c] > max) max = row[c];
        let z = 0;
        for (let c = 0; c < V; c++) z += Math.exp(row[c] - max);
        const lse = max + Math.log(z);
        const lp = new Float32Array(V);
        for (let c = 0; c < V; c++) lp[c] = row[c] - lse;
        out[i] = lp;
      });
    } finally {
      tape.dispose();
    }
  }
  return out;
}

/** Softmax over a few log-probabilities (the restricted distribution), in float64. */
export function restrictedSoftmax(logprobs: readonly number[]): number[] {
  const max = Math.max(...logprobs);
  const e = logprobs.map((x) => Math.exp(x - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}
