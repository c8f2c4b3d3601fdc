// Our BERT encoder (src/model/encoder.ts) as an ONNX graph with its weights as initializers, so onnxruntime-web
// (the reference executor) runs exactly our model: the same tanh-approximation GELU, post-LN layers, bidirectional
// attention with padded keys masked, mean pooling over the real tokens and L2 normalization.
//
//   inputs   input_ids int64 [batch, seq], attention_mask int64 [batch, seq] (1 = token, 0 = padding)
//   output   embeddings float [batch, dim], L2-normalized
//
// Initializers carry the HF names and layouts of the weights (Linear weights [out, in], used through a Transpose
// node that ORT folds at load time). Opset 17 (LayerNormalization; ReduceSum takes its axes as an input, ReduceL2
// as an attribute). The attention mask adds -1e9 to the scores of padded keys, whose softmax weight is then exactly
// 0 in float32, as our kernels' masking gives.
import { ElemType, encodeModel, type Initializer, type NodeSpec } from '../bench/onnx-model.ts';
import { checkEncoderConfig, encoderParamShapes, type EncoderConfig } from './encoder.ts';

export const ONNX_INPUTS = ['input_ids', 'attention_mask'] as const;
export const ONNX_OUTPUT = 'embeddings';

/** The ONNX ModelProto bytes of an encoder with these weights (by HF name). */
export function exportEncoderOnnx(config: EncoderConfig, weights: ReadonlyMap<string, Float32Array>, opts: { name?: string } = {}): Uint8Array {
  checkEncoderConfig(config);
  const shapes = encoderParamShapes(config);
  const { dim, heads, layers } = config;
  const headDim = dim / heads;
  const eps = config.layerNormEps ?? 1e-12;
  const inits: Initializer[] = [];
  for (const [name, shape] of Object.entries(shapes)) {
    const data = weights.get(name);
    if (!data) throw new Error(`exportEncoderOnnx: weight '${name}' is missing`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`exportEncoderOnnx: weight '${name}' has ${data.length} values, the config needs ${n} ([${shape.join(', ')}])`);
    inits.push({ name, dims: shape, data });
  }
  const f32 = (name: string, v: number): void => {
    inits.push({ name, dims: [], data: Float32Array.of(v) });
  };
  const i64 = (name: string, v: readonly number[], scalar = false): void => {
    inits.push({ name, dims: scalar ? [] : [v.length], data: BigInt64Array.from(v, (x) => BigInt(x)) });
  };
  i64('c_zero', [0], true);
  i64('c_one_i', [1], true);
  i64('c_axis1', [1], true);
  i64('c_axes_last', [-1]);
  i64('c_axes_1_2', [1, 2]);
  i64('c_axes_1', [1]);
  i64('c_split_heads', [0, 0, heads, headDim]);
  i64('c_merge_heads', [0, 0, dim]);
  f32('c_one', 1);
  f32('c_half', 0.5);
  f32('c_neg_big', -1e9);
  f32('c_scale', 1 / Math.sqrt(headDim));
  f32('c_gelu_c', Math.sqrt(2 / Math.PI));
  f32('c_gelu_a', 0.044715);
  f32('c_norm_eps', 1e-12);

  const nodes: NodeSpec[] = [];
  let tmp = 0;
  const node = (opType: string, inputs: string[], attrs: Partial<Pick<NodeSpec, 'intAttrs' | 'floatAttrs' | 'intsAttrs'>> = {}, out?: string): string => {
    const o = out ?? `t${tmp++}_${opType.toLowerCase()}`;
    nodes.push({ opType, inputs, outputs: [o], ...attrs });
    return o;
  };
  const linear = (x: string, w: string, b: string): string => node('Add', [node('MatMul', [x, node('Transpose', [w], { intsAttrs: { perm: [1, 0] } })]), b]);
  const layerNorm = (x: string, prefix: string): string =>
    node('LayerNormalization', [x, `${prefix}.weight`, `${prefix}.bias`], { intAttrs: { axis: -1 }, floatAttrs: { epsilon: eps } });

  // Embeddings.
  const words = node('Gather', [`embeddings.word_embeddings.weight`, 'input_ids'], { intAttrs: { axis: 0 } });
  const seq = node('Gather', [node('Shape', ['input_ids']), 'c_axis1'], { intAttrs: { axis: 0 } });
  const positions = node('Range', ['c_zero', seq, 'c_one_i']);
  const pos = node('Gather', ['embeddings.position_embeddings.weight', positions], { intAttrs: { axis: 0 } });
  const type0 = node('Gather', ['embeddings.token_type_embeddings.weight', 'c_zero'], { intAttrs: { axis: 0 } });
  let x = layerNorm(node('Add', [node('Add', [words, pos]), type0]), 'embeddings.LayerNorm');

  // Mask: float [B, T]; additive key bias [B, 1, 1, T].
  const maskF = node('Cast', ['attention_mask'], { intAttrs: { to: ElemType.FLOAT } });
  const keyBias = node('Unsqueeze', [node('Mul', [node('Sub', ['c_one', maskF]), 'c_neg_big']), 'c_axes_1_2']);

  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    const heads4 = (t: string, perm: number[]): string => node('Transpose', [node('Reshape', [t, 'c_split_heads'])], { intsAttrs: { perm } });
    const q = heads4(linear(x, `${p}attention.self.query.weight`, `${p}attention.self.query.bias`), [0, 2, 1, 3]);
    const kT = heads4(linear(x, `${p}attention.self.key.weight`, `${p}attention.self.key.bias`), [0, 2, 3, 1]);
    const v = heads4(linear(x, `${p}attention.self.value.weight`, `${p}attention.self.value.bias`), [0, 2, 1, 3]);
    const scores = node('Add', [node('Mul', [node('MatMul', [q, kT]), 'c_scale']), keyBias]);
    const ctx = node('MatMul', [node('Softmax', [scores], { intAttrs: { axis: -1 } }), v]);
    const merged = node('Reshape', [node('Transpose', [ctx], { intsAttrs: { perm: [0, 2, 1, 3] } }), 'c_merge_heads']);
    const attnOut = linear(merged, `${p}attention.output.dense.weight`, `${p}attention.output.dense.bias`);
    x = layerNorm(node('Add', [x, attnOut]), `${p}attention.output.LayerNorm`);
    // GELU, tanh approximation: 0.5 h (1 + tanh(C (h + A h^3))).
    const h = linear(x, `${p}intermediate.dense.weight`, `${p}intermediate.dense.bias`);
    const h3 = node('Mul', [node('Mul', [h, h]), h]);
    const inner = node('Mul', ['c_gelu_c', node('Add', [h, node('Mul', ['c_gelu_a', h3])])]);
    const g = node('Mul', [node('Mul', ['c_half', h]), node('Add', ['c_one', node('Tanh', [inner])])]);
    const mlp = linear(g, `${p}output.dense.weight`, `${p}output.dense.bias`);
    x = layerNorm(node('Add', [x, mlp]), `${p}output.LayerNorm`);
  }

  // Mean pooling over the real tokens, then L2 normalization.
  const mask3 = node('Unsqueeze', [maskF, 'c_axes_last']);
  const summed = node('ReduceSum', [node('Mul', [x, mask3]), 'c_axes_1'], { intAttrs: { keepdims: 0 } });
  const count = node('ReduceSum', [maskF, 'c_axes_1'], { intAttrs: { keepdims: 1 } });
  const mean = node('Div', [summed, count]);
  const norm = node('Max', [node('ReduceL2', [mean], { intsAttrs: { axes: [1] }, intAttrs: { keepdims: 1 } }), 'c_norm_eps']);
  node('Div', [mean, norm], {}, ONNX_OUTPUT);

  return encodeModel(
    {
      name: opts.name ?? 'bert-encoder',
      nodes,
      initializers: inits,
      inputs: [
        { name: 'input_ids', elemType: ElemType.INT64, shape: ['batch', 'seq'] },
        { name: 'attention_mask', elemType: ElemType.INT64, shape: ['batch', 'seq'] },
      ],
      outputs: [{ name: ONNX_OUTPUT, elemType: ElemType.FLOAT, shape: ['batch', dim] }],
    },
    { producer: 'search-r2-playground' },
  );
}

/** int64 ORT inputs from padded ids [batch, t] and lengths (the mask is 1 on the first lengths[b] positions). */
export function onnxInputs(ids: Int32Array, lengths: Int32Array, batch: number, t: number): { inputIds: BigInt64Array; attentionMask: BigInt64Array } {
  const inputIds = BigInt64Array.from(ids, (v) => BigInt(v));
  const attentionMask = new BigInt64Array(batch * t);
  for (let b = 0; b < batch; b++) for (let j = 0; j < lengths[b]; j++) attentionMask[b * t + j] = 1n;
  return { inputIds, attentionMask };
}
