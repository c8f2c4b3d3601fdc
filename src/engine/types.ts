// The Backend contract. Two implementations: `cpu` (reference, deterministic) and `webgpu` (our WGSL kernels).
// Tensor ops are synchronous: on WebGPU they enqueue work and return handles; nothing is read back until
// `read()` is awaited. All tensors are dense and row-major.

export type BackendKind = 'cpu' | 'webgpu';
export type DType = 'f32' | 'i32' | 'u32';
export type TypedArrayOf<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;
export type AnyTypedArray = Float32Array | Int32Array | Uint32Array;

/** An opaque handle to data living on one backend. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements (product of shape). */
  readonly size: number;
  readonly backend: BackendKind;
  /** True once dispose() was called; using it afterwards throws. */
  readonly disposed: boolean;
}

/**
 * An int8 weight matrix W [K, N] with one fp32 scale per output channel (column n).
 * Stored transposed and packed: `q` is u32 [N, ceil(K/4)], word w of row n holds W[4w..4w+3, n] as
 * two's-complement bytes, lowest byte first. dequant(W)[k, n] = q8[n, k] * scales[n].
 */
export interface Int8Weight {
  readonly q: Tensor;
  readonly scales: Tensor;
  readonly k: number;
  readonly n: number;
}

export interface MatmulOptions {
  /** Use a^T: `a` is stored [K, M]. */
  transA?: boolean;
  /** Use b^T: `b` is stored [N, K]. */
  transB?: boolean;
}

/**
 * Multi-head attention over packed heads. q: [batch*tq, heads*headDim]; k, v: [batch*tk, heads*headDim].
 * Causal (the default) with an offset: query i (0-based within its sequence) sees keys j <= i + (tk - tq). tq = tk
 * is the training case; tq = 1 with tk = cache length + 1 is decoding with a KV cache. Non-causal (`causal: false`,
 * BERT-style encoders): every query sees every valid key.
 *
 * Padding: with `keyLengths`, keys j >= keyLengths[b] of batch entry b are masked out (for every query of that
 * entry, on top of the causal mask). Query rows are never masked: a query at a padded position (i >= len) still
 * gets an output, a softmax over the valid keys it sees, and an lse; callers ignore those rows (e.g. mean pooling
 * gives them weight 0, so they also get zero gradient). Masked keys get zero dk and dv. Every query sees at least
 * key 0, so no softmax row is empty.
 */
export interface AttentionSpec {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  /** Defaults to 1/sqrt(headDim). */
  scale?: number;
  /** Causal mask (default true). false: bidirectional attention over all valid keys. */
  causal?: boolean;
  /**
   * Host data: the number of valid keys of each batch entry, `batch` values with 1 <= len <= tk. Keys j >= len
   * are masked out for that entry. Omitted: every key is valid.
   */
  keyLengths?: Int32Array;
}

export interface SampleOptions {
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 keeps every token. */
  topP: number;
}

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

export interface Ops {
  // ---- memory -------------------------------------------------------------------------------------------
  tensor(data: AnyTypedArray, shape: readonly number[]): Tensor;
  zeros(shape: readonly number[], dtype?: DType): Tensor;
  read(t: Tensor): Promise<AnyTypedArray>;
  readF32(t: Tensor): Promise<Float32Array>;
  readI32(t: Tensor): Promise<Int32Array>;
  /** Overwrite a tensor's contents with host data of the same size. */
  write(t: Tensor, data: AnyTypedArray): void;
  /** dst[row .. row + src.rows) = src, for 2-D tensors with equal column counts (KV-cache append). */
  copyRows(dst: Tensor, row: number, src: Tensor): void;
  dispose(t: Tensor): void;
  /** Resolves when every op enqueued so far has finished. */
  flush(): Promise<void>;

  // ---- linear algebra -----------------------------------------------------------------------------------
  /** op(a) [M,K] x op(b) [K,N] -> [M,N]. */
  matmul(a: Tensor, b: Tensor, opts?: MatmulOptions): Tensor;
  /** a [M,K] x dequant(W) [K,N] -> [M,N]. */
  matmulInt8(a: Tensor, w: Int8Weight): Tensor;

  // ---- elementwise and reductions -----------------------------------------------------------------------
  add(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor, b: Tensor): Tensor;
  scale(x: Tensor, s: number): Tensor;
  /** x [M,N] + bias [N] broadcast over rows. */
  addBias(x: Tensor, bias: Tensor): Tensor;
  /** Sum of all elements -> [1]. */
  sum(x: Tensor): Tensor;
  /** Column sums of x [M,N] -> [N] (the bias gradient). */
  sumRows(x: Tensor): Tensor;

  // ---- network layers -----------------------------------------------------------------------------------
  /** table [V,D] gathered at ids (i32 [N]) -> [N,D]. */
  embedding(table: Tensor, ids: Tensor): Tensor;
  /** Scatter-add of dOut [N,D] into a fresh [vocab,D] gradient; ids are host data (tokens are host data). */
  embeddingBackward(dOut: Tensor, ids: Int32Array, vocab: number): Tensor;
  layernorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { y: Tensor; mean: Tensor; rstd: Tensor };
  layernormBackward(
    dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor,
  ): { dx: Tensor; dgamma: Tensor; dbeta: Tensor };
  /** GELU, tanh approximation (GPT-2 / BERT). */
  gelu(x: Tensor): Tensor;
  geluBackward(dy: Tensor, x: Tensor): Tensor;
  /**
   * Attention (causal by default; see AttentionSpec for bidirectional and padded keys); lse [batch*heads*tq] is
   * the per-row log-sum-exp kept for the backward pass.
   */
  attention(q: Tensor, k: Tensor, v: Tensor, spec: AttentionSpec): { out: Tensor; lse: Tensor };
  attentionBackward(
    dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, spec: AttentionSpec,
  ): { dq: Tensor; dk: Tensor; dv: Tensor };

  /**
   * Row-wise L2 normalization of x [M,N]: norm[r] = sqrt(sum_j x[r,j]^2) ([M]), y = x / max(norm, eps) (E5's
   * normalized embeddings). norm is the unclamped norm, kept for the backward pass.
   */
  l2normalize(x: Tensor, eps: number): { y: Tensor; norm: Tensor };
  /**
   * dx of l2normalize from its outputs y and norm and the same eps: where norm >= eps,
   * dx = (dy - y * (y . dy)) / norm; where norm < eps (clamped rows, y = x / eps), dx = dy / eps.
   */
  l2normalizeBackward(dy: Tensor, y: Tensor, norm: Tensor, eps: number): Tensor;

  // ---- loss and sampling --------------------------------------------------------------------------------
  /** Fused log-softmax + gather: logp[r] = logits[r, targets[r]] - logsumexp(logits[r]). Never builds probs. */
  logprob(logits: Tensor, targets: Tensor): { logp: Tensor; lse: Tensor };
  /**
   * Writes (softmax(logits[r]) - onehot(targets[r])) * weight[r] into `logits` in place and returns it.
   * With weight = -dL/dlogp this is dL/dlogits.
   */
  logprobBackward(logits: Tensor, targets: Tensor, lse: Tensor, weight: Tensor): Tensor;
  /** Unfused reference path (log-softmax materialized, then gather); used as a benchmark anchor. */
  logprobUnfused(logits: Tensor, targets: Tensor): Tensor;
  /**
   * One token per row from softmax(logits / temperature) restricted to the nucleus: the smallest set of most
   * probable tokens whose mass reaches topP (ties at the threshold kept). uniforms [R] in [0,1) come from the
   * caller's seeded generator; the token is the first in index order whose running kept mass exceeds u * kept.
   */
  sample(logits: Tensor, uniforms: Tensor, opts: SampleOptions): Tensor;

  // ---- optimizer ----------------------------------------------------------------------------------------
  /** AdamW, in place on param, m, v (decoupled weight decay: p -= lr * wd * p). */
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void;
}

export interface BackendInfo {
  kind: BackendKind;
  /** Adapter description ("google / swiftshader ...") or "CPU reference". */
  adapter: string;
  /** Why this backend is in use when it is a fallback; empty otherwise. */
  fallbackReason: string;
}

export type BackendEvent = { type: 'lost'; reason: string; message: string };

/** What a backend's memory holds (the cpu backend's WebAssembly memory). */
export interface MemoryStats {
  /** Bytes handed out from the bottom so far: live blocks plus free blocks kept for reuse. */
  heapBytes: number;
  /** Bytes of the blocks in use (tensors, scratch). */
  liveBytes: number;
  /** Size of the memory (it grows on demand up to its limit). */
  memoryBytes: number;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly info: BackendInfo;
  readonly ops: Ops;
  /** Row-major a [m,k] x b [k,n] on plain arrays. */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<Float32Array>;
  /** Row-wise log-softmax gathered at targets, on plain arrays. */
  logprob(logits: Float32Array, targets: Int32Array, rows: number, vocab: number): Promise<Float32Array>;
  /** Subscribe to backend events (device lost). Returns an unsubscribe function. */
  on(listener: (e: BackendEvent) => void): () => void;
  /** Where the backend can tell (the wasm cpu backend): what its memory holds now. */
  memory?(): MemoryStats;
  dispose(): void;
}
