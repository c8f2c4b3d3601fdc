import { adamwCases } from './adamw.ts';
import { attentionCases } from './attention.ts';
import { elementwiseCases } from './elementwise.ts';
import { embeddingCases } from './embedding.ts';
import { geluCases } from './gelu.ts';
import { l2normalizeCases } from './l2normalize.ts';
import { layernormCases } from './layernorm.ts';
import { logprobCases } from './logprob.ts';
import { matmulCases } from './matmul.ts';
import { reduceCases } from './reduce.ts';
import { sampleCases } from './sample.ts';
import { topkCases } from './topk.ts';
import type { ConformanceCase } from './harness.ts';

export type { CaseResult, ConformanceCase } from './harness.ts';

export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  ...elementwiseCases,
  ...matmulCases,
  ...reduceCases,
  ...embeddingCases,
  ...adamwCases,
  ...layernormCases,
  ...geluCases,
  ...attentionCases,
  ...logprobCases,
  ...sampleCases,
  ...topkCases,
  ...l2normalizeCases,
];
