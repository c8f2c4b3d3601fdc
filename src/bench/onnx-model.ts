// A tiny protobuf writer for the handful of ONNX messages the benchmarks and the encoder export need, so
// onnxruntime-web runs models we build in memory (no onnx python package, no downloaded files). Only what is used
// is implemented: varint (wire type 0), 32-bit (wire type 5) and length-delimited (wire type 2) fields.
//
// Field numbers (onnx.proto3): ModelProto{ir_version 1, producer_name 2, graph 7, opset_import 8},
// OperatorSetIdProto{domain 1, version 2}, GraphProto{node 1, name 2, initializer 5, input 11, output 12},
// NodeProto{input 1, output 2, name 3, op_type 4, attribute 5},
// AttributeProto{name 1, f 2, i 3, ints 8, type 20} (types FLOAT 1, INT 2, INTS 7),
// TensorProto{dims 1, data_type 2, name 8, raw_data 9} (raw_data little-endian),
// ValueInfoProto{name 1, type 2}, TypeProto{tensor_type 1}, TypeProto.Tensor{elem_type 1, shape 2},
// TensorShapeProto{dim 1}, TensorShapeProto.Dimension{dim_value 1, dim_param 2}.

/** TensorProto.DataType values used here. */
export const ElemType = { FLOAT: 1, INT64: 7 } as const;
export type ElemTypeValue = (typeof ElemType)[keyof typeof ElemType];

/** AttributeProto.AttributeType values. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Appends protobuf fields to a growing byte list (large payloads are kept as chunks, not copied byte by byte). */
export class ProtoWriter {
  private bytes: number[] = [];
  private chunks: Uint8Array[] = [];
  private size = 0;

  /** Moves the pending small bytes into the chunk list. */
  private seal(): void {
    if (this.bytes.length > 0) {
      this.chunks.push(Uint8Array.from(this.bytes));
      this.size += this.bytes.length;
      this.bytes = [];
    }
  }

  /** Unsigned or signed integer as a varint; negatives are 64-bit two's complement (10 bytes), as int64 wants. */
  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.bytes.push(byte);
    } while (v !== 0n);
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** An int32 / int64 / enum field. */
  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new Error(`ProtoWriter: ${value} is not a safe integer`);
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** A float field (wire type 5, little-endian). */
  float(field: number, value: number): this {
    this.key(field, WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  /** A length-delimited field holding raw bytes. */
  raw(field: number, data: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(data.length);
    if (data.length <= 64) for (const b of data) this.bytes.push(b);
    else {
      this.seal();
      this.chunks.push(data);
      this.size += data.length;
    }
    return this;
  }

  string(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  /** An embedded message, written by `build` into a fresh writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.raw(field, w.finish());
  }

  finish(): Uint8Array {
    this.seal();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export interface ValueInfo {
  name: string;
  elemType: ElemTypeValue;
  /** Fixed sizes, or names of symbolic dimensions ("batch", "seq"). */
  shape: readonly (number | string)[];
}

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Integer attributes (axis and the like). */
  intAttrs?: Readonly<Record<string, number>>;
  /** Float attributes (epsilon). */
  floatAttrs?: Readonly<Record<string, number>>;
  /** Integer-list attributes (perm, axes). */
  intsAttrs?: Readonly<Record<string, readonly number[]>>;
}

/** A constant tensor of the graph (weights, shapes, scalars). */
export interface Initializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  initializers?: readonly Initializer[];
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function writeInitializer(w: ProtoWriter, t: Initializer): void {
  const n = t.dims.reduce((a, d) => a * d, 1);
  if (n !== t.data.length) throw new Error(`initializer ${t.name}: dims [${t.dims.join(', ')}] hold ${n} values, the data has ${t.data.length}`);
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? ElemType.FLOAT : ElemType.INT64);
  w.string(8, t.name);
  const bytes = new Uint8Array(t.data.byteLength);
  const dv = new DataView(bytes.buffer);
  if (t.data instanceof Float32Array) for (let i = 0; i < t.data.length; i++) dv.setFloat32(4 * i, t.data[i], true);
  else for (let i = 0; i < t.data.length; i++) dv.setBigInt64(8 * i, t.data[i], true);
  w.raw(9, bytes);
}

function writeNode(w: ProtoWriter, n: NodeSpec, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.opType.toLowerCase()}_${index}`);
  w.string(4, n.opType);
  for (const [name, value] of Object.entries(n.intAttrs ?? {}))
    w.message(5, (a) => {
      a.string(1, name);
      a.int(3, value);
      a.int(20, ATTR_INT);
    });
  for (const [name, value] of Object.entries(n.floatAttrs ?? {}))
    w.message(5, (a) => {
      a.string(1, name);
      a.float(2, value);
      a.int(20, ATTR_FLOAT);
    });
  for (const [name, values] of Object.entries(n.intsAttrs ?? {}))
    w.message(5, (a) => {
      a.string(1, name);
      for (const v of values) a.int(8, v);
      a.int(20, ATTR_INTS);
    });
}

/** ModelProto bytes: ir_version 8, default-domain opset 17, one graph. */
export function encodeModel(graph: GraphSpec, opts: { irVersion?: number; opset?: number; producer?: string } = {}): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, opts.irVersion ?? 8);
  w.string(2, opts.producer ?? 'search-r2-bench'); // producer_name
  w.message(7, (g) => {
    graph.nodes.forEach((n, i) => g.message(1, (nw) => writeNode(nw, n, i)));
    g.string(2, graph.name);
    for (const t of graph.initializers ?? []) g.message(5, (tw) => writeInitializer(tw, t));
    for (const v of graph.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of graph.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  });
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, opts.opset ?? 17);
  });
  return w.finish();
}

/** C[m,n] = MatMul(A[m,k], B[k,n]); inputs "A", "B", output "C". */
export function matmulModel(m: number, k: number, n: number): Uint8Array {
  return encodeModel({
    name: 'matmul',
    nodes: [{ opType: 'MatMul', inputs: ['A', 'B'], outputs: ['C'] }],
    inputs: [
      { name: 'A', elemType: ElemType.FLOAT, shape: [m, k] },
      { name: 'B', elemType: ElemType.FLOAT, shape: [k, n] },
    ],
    outputs: [{ name: 'C', elemType: ElemType.FLOAT, shape: [m, n] }],
  });
}

/**
 * logp[r,1] = GatherElements(LogSoftmax(X[r,v], axis=-1), targets[r,1] int64, axis=1): the textbook logprob.
 * Inputs "X", "targets", output "logp".
 */
export function logprobModel(rows: number, vocab: number): Uint8Array {
  return encodeModel({
    name: 'logprob',
    nodes: [
      { opType: 'LogSoftmax', inputs: ['X'], outputs: ['logsm'], intAttrs: { axis: -1 } },
      { opType: 'GatherElements', inputs: ['logsm', 'targets'], outputs: ['logp'], intAttrs: { axis: 1 } },
    ],
    inputs: [
      { name: 'X', elemType: ElemType.FLOAT, shape: [rows, vocab] },
      { name: 'targets', elemType: ElemType.INT64, shape: [rows, 1] },
    ],
    outputs: [{ name: 'logp', elemType: ElemType.FLOAT, shape: [rows, 1] }],
  });
}
