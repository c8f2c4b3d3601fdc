// A tiny protobuf writer for the handful of ONNX messages the benchmarks need, so the onnxruntime-web anchors run
// models we build in memory (no onnx python package, no downloaded files). Only what is used is implemented:
// varint (wire type 0) and length-delimited (wire type 2) fields.
//
// Field numbers (onnx.proto3): ModelProto{ir_version 1, opset_import 8, graph 7},
// OperatorSetIdProto{domain 1, version 2}, GraphProto{node 1, name 2, input 11, output 12},
// NodeProto{input 1, output 2, name 3, op_type 4, attribute 5}, AttributeProto{name 1, i 3, type 20},
// ValueInfoProto{name 1, type 2}, TypeProto{tensor_type 1}, TypeProto.Tensor{elem_type 1, shape 2},
// TensorShapeProto{dim 1}, TensorShapeProto.Dimension{dim_value 1}.

/** TensorProto.DataType values used here. */
export const ElemType = { FLOAT: 1, INT64: 7 } as const;
export type ElemTypeValue = (typeof ElemType)[keyof typeof ElemType];

/** AttributeProto.AttributeType.INT. */
const ATTR_INT = 2;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** Appends protobuf fields to a growing byte list. */
export class ProtoWriter {
  private bytes: number[] = [];

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

  /** A length-delimited field holding raw bytes. */
  raw(field: number, data: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(data.length);
    for (const b of data) this.bytes.push(b);
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
    return Uint8Array.from(this.bytes);
  }
}

export interface ValueInfo {
  name: string;
  elemType: ElemTypeValue;
  shape: readonly number[];
}

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Integer attributes only (axis and the like). */
  intAttrs?: Readonly<Record<string, number>>;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
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
}

/** ModelProto bytes: ir_version 8, default-domain opset 17, one graph. */
export function encodeModel(graph: GraphSpec, opts: { irVersion?: number; opset?: number } = {}): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, opts.irVersion ?? 8);
  w.string(2, 'search-r2-bench'); // producer_name
  w.message(7, (g) => {
    graph.nodes.forEach((n, i) => g.message(1, (nw) => writeNode(nw, n, i)));
    g.string(2, graph.name);
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
