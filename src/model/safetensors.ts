// The safetensors checkpoint format (https://github.com/huggingface/safetensors), read and written in plain
// TypeScript so it runs in Node and in the browser: callers do the file/URL I/O and pass bytes in and out.
//
// Layout: 8 bytes little-endian u64 N, then N bytes of UTF-8 JSON
//   {"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// (padded with spaces so the data starts 8-byte aligned), then the data buffer; offsets are relative to the
// buffer's start. Validation follows the reference implementation: the tensors must tile the buffer exactly
// (sorted by offset, no gap, no overlap, nothing left over) and each byte length must equal
// product(shape) * sizeof(dtype). Every error names the file (`source`) and, where there is one, the tensor.

/** Dtypes we decode. F16 / BF16 / F64 become Float32Array, I64 becomes Int32Array (range-checked). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I8' | 'U8';
/** Dtypes we write. */
export type WritableDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I8';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I8: 1, U8: 1 };
/** Dtypes the format defines that we recognise but do not decode (named in the error). */
const OTHER_FORMAT_DTYPES = ['BOOL', 'I16', 'U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64'];
/**
 * Order of the data in files we write: larger dtypes first, then by name. This is the reference writer's order
 * (its Dtype enum descending), and it keeps every tensor aligned to its element size.
 */
const WRITE_RANK: Record<WritableDtype, number> = { F32: 0, I32: 1, BF16: 2, F16: 3, I8: 4 };
/** The reference refuses headers above 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** One tensor as stored: its bytes are a view into the file (no copy). */
export interface RawTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** Tensors in the header's order. */
  readonly tensors: ReadonlyMap<string, RawTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

export type DecodedData = Float32Array | Int32Array | Int8Array | Uint8Array;

/** A decoded tensor: floats as Float32Array, I32/I64 as Int32Array, I8 as Int8Array, U8 as Uint8Array. */
export interface DecodedTensor {
  /** The dtype in the file. */
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: DecodedData;
}

/** A tensor to write. F16/BF16 take a Float32Array and round to nearest even. */
export type TensorToWrite =
  | { readonly dtype: 'F32' | 'F16' | 'BF16'; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly dtype: 'I32'; readonly shape: readonly number[]; readonly data: Int32Array }
  | { readonly dtype: 'I8'; readonly shape: readonly number[]; readonly data: Int8Array };

function fail(source: string, what: string): never {
  throw new SafetensorsError(`model file ${source}: ${what}`);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function toU8(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parse and validate a safetensors file. `source` names the file in errors (a path, a URL, "e5-small-v2").
 * The returned tensors' bytes view `bytes`; keep it alive and unmodified, or decode with `decodeTensor`.
 */
export function parseSafetensors(input: Uint8Array | ArrayBuffer, source: string): SafetensorsFile {
  const bytes = toU8(input);
  if (bytes.length < 8) {
    fail(source, `truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > MAX_HEADER_BYTES) {
    fail(source, `header length ${headerLen} is implausible (over ${MAX_HEADER_BYTES} bytes): not a safetensors file?`);
  }
  if (8 + headerLen > bytes.length) {
    fail(source, `truncated: the header says it is ${headerLen} bytes but only ${bytes.length - 8} follow the length`);
  }
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail(source, 'the header is not valid UTF-8');
  }
  if (!headerText.startsWith('{')) {
    fail(source, `the header does not start with '{' (starts with ${JSON.stringify(headerText.slice(0, 16))}): not a safetensors file?`);
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    fail(source, `the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(source, 'the header is not a JSON object');
  }
  const buffer = bytes.subarray(8 + headerLen);
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail(source, '__metadata__ is not an object of strings');
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push({ name, ...parseInfo(name, value, source) });
  }
  for (const e of entries) {
    if (e.end > buffer.length) {
      fail(source, `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] run past the end of the data (${buffer.length} bytes): truncated file?`);
    }
  }
  // The tensors must tile the data buffer: sorted by offset, each begins where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: string | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      fail(source, `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap tensor '${prev}' (which ends at ${pos})`);
    }
    if (e.begin > pos) {
      fail(source, `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a gap of ${e.begin - pos} bytes after ${prev === undefined ? 'the header' : `tensor '${prev}'`}`);
    }
    pos = e.end;
    prev = e.name;
  }
  if (pos !== buffer.length) {
    fail(source, `the tensors cover ${pos} bytes of data but the file has ${buffer.length}: ${buffer.length - pos} unexplained trailing bytes`);
  }
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: buffer.subarray(e.begin, e.end) });
  return { tensors, metadata };
}

function parseInfo(name: string, value: unknown, source: string): { dtype: SafetensorsDtype; shape: number[]; begin: number; end: number } {
  const where = `tensor '${name}'`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(source, `${where}: its header entry is not an object`);
  const info = value as Record<string, unknown>;
  const dtype = info.dtype;
  if (typeof dtype !== 'string') fail(source, `${where}: dtype is missing or not a string`);
  if (!(dtype in DTYPE_BYTES)) {
    const why = OTHER_FORMAT_DTYPES.includes(dtype) ? 'is not supported here' : 'is unknown';
    fail(source, `${where}: dtype '${dtype}' ${why} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  const shape = info.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    fail(source, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const offs = info.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    fail(source, `${where}: data_offsets ${JSON.stringify(offs)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) fail(source, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
  const dt = dtype as SafetensorsDtype;
  const elems = (shape as number[]).reduce((a, d) => a * d, 1);
  const want = elems * DTYPE_BYTES[dt];
  if (!Number.isSafeInteger(want) || want !== end - begin) {
    fail(source, `${where}: shape ${fmtShape(shape as number[])} of ${dt} needs ${want} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { dtype: dt, shape: shape as number[], begin, end };
}

// ---- element conversions ---------------------------------------------------------------------------------

let f16Table: Float32Array | undefined;

/** IEEE half (as its 16 bits) -> float. */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float -> IEEE half bits, rounding to nearest even; overflow gives +-Infinity, NaN stays NaN. */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const f = u32Scratch[0];
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand, round to nearest even.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct (up to Inf)
  return sign | h;
}

/** bfloat16 bits -> float. */
export function bf16BitsToF32(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0];
}

/** float -> bfloat16 bits, rounding to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  const f = u32Scratch[0];
  if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) return ((f >>> 16) | 0x40) & 0xffff;
  return ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
}

function halfTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32(i);
  }
  return f16Table;
}

/**
 * A copy of `b` in a fresh, aligned ArrayBuffer of exactly its length. Not `b.slice()`: on a Node Buffer (what
 * readFileSync returns) slice() is a view, and its `.buffer` is the whole file.
 */
function aligned(b: Uint8Array): ArrayBuffer {
  return Uint8Array.prototype.slice.call(b).buffer as ArrayBuffer;
}

/** Decode one stored tensor into a fresh typed array (see DecodedTensor for the types). */
export function decodeTensor(t: RawTensor, name = '?', source = '?'): DecodedTensor {
  const { dtype, shape, bytes } = t;
  const n = bytes.length / DTYPE_BYTES[dtype];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let data: DecodedData;
  switch (dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) data = new Float32Array(aligned(bytes));
      else {
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
      }
      break;
    case 'F64': {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat64(8 * i, true);
      break;
    }
    case 'F16': {
      const table = halfTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)];
      data = out;
      break;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      data = out;
      break;
    }
    case 'I32':
      if (LITTLE_ENDIAN) data = new Int32Array(aligned(bytes));
      else {
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = dv.getInt32(4 * i, true);
      }
      break;
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) {
          fail(source, `tensor '${name}': I64 element ${i} (${v}) does not fit in 32 bits`);
        }
        out[i] = Number(v);
      }
      data = out;
      break;
    }
    case 'I8':
      data = new Int8Array(aligned(bytes));
      break;
    case 'U8':
      data = bytes.slice();
      break;
  }
  return { dtype, shape, data };
}

/** Parse, validate and decode every tensor. */
export function readSafetensors(
  input: Uint8Array | ArrayBuffer,
  source: string,
): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  const file = parseSafetensors(input, source);
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, t] of file.tensors) tensors.set(name, decodeTensor(t, name, source));
  return { tensors, metadata: { ...file.metadata } };
}

/** The tensor's data as a Float32Array (float dtypes only), with a clear error otherwise. */
export function floatData(t: DecodedTensor, name: string, source: string): Float32Array {
  if (!(t.data instanceof Float32Array)) {
    fail(source, `tensor '${name}' has dtype ${t.dtype}, expected a float dtype (F32, F16, BF16)`);
  }
  return t.data;
}

// ---- writing ----------------------------------------------------------------------------------------------

/** Code-point order of two strings (the reference sorts names as bytes; for UTF-8 that is code-point order). */
function cmpCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

/**
 * Serialize tensors to safetensors bytes. Deterministic: the data is ordered by dtype (F32, I32, BF16, F16, I8)
 * then name, the header lists `__metadata__` (keys sorted) first and the tensors in data order, and is padded
 * with spaces to a multiple of 8 bytes, as the reference writer does.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const list: [string, TensorToWrite][] =
    tensors instanceof Map ? [...(tensors as ReadonlyMap<string, TensorToWrite>)] : Object.entries(tensors as Record<string, TensorToWrite>);
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new SafetensorsError("writeSafetensors: '__metadata__' is reserved and cannot name a tensor");
    if (!(t.dtype in WRITE_RANK)) throw new SafetensorsError(`writeSafetensors: tensor '${name}': dtype '${t.dtype}' cannot be written`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`writeSafetensors: tensor '${name}': shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    }
    const elems = t.shape.reduce((a, d) => a * d, 1);
    if (elems !== t.data.length) {
      throw new SafetensorsError(`writeSafetensors: tensor '${name}': shape ${fmtShape(t.shape)} has ${elems} elements but the data has ${t.data.length}`);
    }
    const ok =
      t.dtype === 'I32' ? t.data instanceof Int32Array : t.dtype === 'I8' ? t.data instanceof Int8Array : t.data instanceof Float32Array;
    if (!ok) throw new SafetensorsError(`writeSafetensors: tensor '${name}': dtype ${t.dtype} needs ${t.dtype === 'I32' ? 'an Int32Array' : t.dtype === 'I8' ? 'an Int8Array' : 'a Float32Array'}`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new SafetensorsError(`writeSafetensors: __metadata__.${k} must be a string`);
  }
  list.sort(([an, a], [bn, b]) => WRITE_RANK[a.dtype] - WRITE_RANK[b.dtype] || cmpCodePoints(an, bn));

  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort(cmpCodePoints);
  if (metaKeys.length > 0) {
    parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  const placed: { t: TensorToWrite; begin: number }[] = [];
  for (const [name, t] of list) {
    const len = t.data.length * DTYPE_BYTES[t.dtype];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + len}]}`);
    placed.push({ t, begin: offset });
    offset += len;
  }
  const headerBytes = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(headerBytes.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(headerBytes, 8);
  out.fill(0x20, 8 + headerBytes.length, 8 + headerLen);
  const base = 8 + headerLen;
  for (const { t, begin } of placed) {
    const at = base + begin;
    const n = t.data.length;
    switch (t.dtype) {
      case 'F32':
        if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, 4 * n), at);
        else for (let i = 0; i < n; i++) dv.setFloat32(at + 4 * i, t.data[i], true);
        break;
      case 'F16':
        for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, f32ToF16Bits(t.data[i]), true);
        break;
      case 'BF16':
        for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, f32ToBf16Bits(t.data[i]), true);
        break;
      case 'I32':
        if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, 4 * n), at);
        else for (let i = 0; i < n; i++) dv.setInt32(at + 4 * i, t.data[i], true);
        break;
      case 'I8':
        out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, n), at);
        break;
    }
  }
  return out;
}

// ---- checking a file against a config -----------------------------------------------------------------------

export interface ExpectShapesOptions {
  /** Tensors in the file that the config does not name but that may be ignored (e.g. `embeddings.position_ids`). */
  ignoreUnexpected?: (name: string) => boolean;
}

/** Thrown by expectShapes; `problems` has one line per mismatching, missing or unexpected tensor. */
export class ShapeMismatchError extends SafetensorsError {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'ShapeMismatchError';
  }
}

/**
 * Check that a file holds exactly the tensors a config needs, with the needed shapes. Throws a
 * ShapeMismatchError naming the file and every problem, e.g.
 * "model file e5.safetensors: tensor 'encoder.layer.0.attention.self.query.weight' has shape [384, 384], the config needs [128, 128]".
 */
export function expectShapes(
  tensors: ReadonlyMap<string, { readonly shape: readonly number[] }> | Readonly<Record<string, { readonly shape: readonly number[] }>>,
  spec: Readonly<Record<string, readonly number[]>>,
  source: string,
  opts: ExpectShapesOptions = {},
): void {
  type Shaped = { readonly shape: readonly number[] };
  const have: ReadonlyMap<string, Shaped> =
    tensors instanceof Map ? (tensors as ReadonlyMap<string, Shaped>) : new Map(Object.entries(tensors as Record<string, Shaped>));
  const problems: string[] = [];
  for (const [name, want] of Object.entries(spec)) {
    const t = have.get(name);
    if (!t) problems.push(`tensor '${name}' is missing (the config needs ${fmtShape(want)})`);
    else if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      problems.push(`tensor '${name}' has shape ${fmtShape(t.shape)}, the config needs ${fmtShape(want)}`);
    }
  }
  for (const [name, t] of have) {
    if (!(name in spec) && !opts.ignoreUnexpected?.(name)) {
      problems.push(`tensor '${name}' ${fmtShape(t.shape)} is unexpected (the config has no such weight)`);
    }
  }
  if (problems.length === 0) return;
  const MAX = 20;
  const message =
    problems.length === 1
      ? `model file ${source}: ${problems[0]}`
      : `model file ${source}: ${problems.length} tensors do not match the config:\n  ${problems.slice(0, MAX).join('\n  ')}${
          problems.length > MAX ? `\n  ... and ${problems.length - MAX} more` : ''
        }`;
  throw new ShapeMismatchError(message, problems);
}
