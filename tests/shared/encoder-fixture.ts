// A small encoder for tests in Node and the browser: a WordPiece vocabulary trained on a few sentences, the `tiny`
// preset's shape, and random weights with a large spread (so each part of the graph visibly moves the output).
import { Rng } from '../../src/engine/rng.ts';
import { ENCODER_PRESETS, encoderParamShapes, type EncoderConfig } from '../../src/model/encoder.ts';
import { WordPieceTokenizer } from '../../src/text/wordpiece.ts';
import { trainWordPiece } from '../../src/text/wordpiece-train.ts';

export const ENCODER_TEST_SENTENCES: readonly string[] = [
  'query: What currency is used in Burkina Faso?',
  'passage: "Burkina Faso"\nBurkina Faso is a landlocked country in Western Africa. Its capital is Ouagadougou.',
  'query: where is lesser sunda islands',
  'passage: "Ouagadougou"\nOuagadougou is the capital of Burkina Faso. It has a population of 1,086,505.',
  'query: In what country is Roelofarendsveen?',
  'passage: "Protaras"\nProtaras is a town in Cyprus.',
  'query: Which country has the international dialling code +598?',
  'passage: "Uruguay"\nUruguay is a country in South America. Its currency is the Uruguayan peso (UYU).',
];

export function testTokenizer(): WordPieceTokenizer {
  const r = trainWordPiece(ENCODER_TEST_SENTENCES, { vocabSize: 300, minFrequency: 1, extraWords: ['query:', 'passage:'] });
  return new WordPieceTokenizer(r.tokens, {}, 'test tokenizer.json');
}

/** Random weights by HF name, perturbed away from the init (matrices normal(0, std), LayerNorm gains 1 +- 0.2, biases +- 0.1), so that the checks against ORT exercise every parameter. src/bench/encoder-case.ts randomEncoderWeights is the benchmark's plain init. */
export function perturbedEncoderWeights(config: EncoderConfig, seed: number, std = 0.3): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of Object.entries(encoderParamShapes(config))) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('LayerNorm.weight')) out.set(name, Float32Array.from({ length: n }, () => 1 + 0.2 * rng.normal()));
    else if (name.endsWith('.bias')) out.set(name, Float32Array.from({ length: n }, () => 0.1 * rng.normal()));
    else out.set(name, rng.normalArray(n, name.startsWith('embeddings.') ? 1 : std));
  }
  return out;
}

export function testEncoderSetup(layers = 2): { config: EncoderConfig; weights: Map<string, Float32Array>; tokenizer: WordPieceTokenizer } {
  const tokenizer = testTokenizer();
  const config: EncoderConfig = { ...ENCODER_PRESETS.tiny, layers, vocab: tokenizer.size, maxLen: 48 };
  return { config, weights: perturbedEncoderWeights(config, 7), tokenizer };
}

/** Cosine similarity of two embeddings (the check against onnxruntime-web: >= 0.999 per sentence). */
export { cosine } from '../../src/bench/encoder-case.ts';
