// safetensors: byte layout of what we write, round trips, F16/BF16 values, every malformed-file error, expectShapes.
import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  decodeTensor,
  expectShapes,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  floatData,
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  ShapeMismatchError,
  type TensorToWrite,
  writeSafetensors,
} from '../../src/model/safetensors.ts';

/** A file from a header (object or raw text) and data bytes; the header is not padded unless asked. */
function craft(header: unknown, data: number[] | Uint8Array = [], opts: { lengthField?: number; pad?: boolean } = {}): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (opts.pad) text = text.padEnd(Math.ceil(text.length / 8) * 8, ' ');
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, opts.lengthField ?? h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const f32Bytes = (xs: number[]): number[] => Array.from(new Uint8Array(new Float32Array(xs).buffer));

describe('writeSafetensors', () => {
  it('writes the reference layout: u64 length, compact JSON, space padding to 8, dtype-then-name order', () => {
    const bytes = writeSafetensors(
      {
        b: { dtype: 'F32', shape: [2], data: new Float32Array([1, -2]) },
        a: { dtype: 'I8', shape: [3], data: new Int8Array([1, -1, 127]) },
        c: { dtype: 'F32', shape: [], data: new Float32Array([0.5]) },
        h: { dtype: 'F16', shape: [1], data: new Float32Array([1]) },
      },
      { format: 'pt', arch: 'e5' },
    );
    const dv = new DataView(bytes.buffer);
    const n = dv.getUint32(0, true);
    expect(dv.getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"arch":"e5","format":"pt"},' +
        '"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"c":{"dtype":"F32","shape":[],"data_offsets":[8,12]},' +
        '"h":{"dtype":"F16","shape":[1],"data_offsets":[12,14]},' +
        '"a":{"dtype":"I8","shape":[3],"data_offsets":[14,17]}}',
    );
    expect(header.length - header.trimEnd().length).toBeLessThan(8);
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    expect(Array.from(bytes.subarray(8 + n))).toEqual([...f32Bytes([1, -2, 0.5]), 0x00, 0x3c, 1, 255, 127]);
    expect(bytes.length).toBe(8 + n + 17);
  });

  it('is deterministic whatever the insertion order, and writes no metadata block when there is none', () => {
    const x = { dtype: 'F32' as const, shape: [1], data: new Float32Array([3]) };
    const y = { dtype: 'I32' as const, shape: [1], data: new Int32Array([7]) };
    const one = writeSafetensors(new Map<string, TensorToWrite>([['x', x], ['y', y]]));
    const two = writeSafetensors(new Map<string, TensorToWrite>([['y', y], ['x', x]]));
    expect(Array.from(two)).toEqual(Array.from(one));
    expect(new TextDecoder().decode(one).includes('__metadata__')).toBe(false);
  });

  it('refuses inconsistent input', () => {
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      "writeSafetensors: tensor 'w': shape [2, 2] has 4 elements but the data has 3",
    );
    expect(() => writeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })).toThrow(/reserved/);
    expect(() => writeSafetensors({ w: { dtype: 'I32', shape: [1], data: new Float32Array(1) as unknown as Int32Array } })).toThrow(
      "writeSafetensors: tensor 'w': dtype I32 needs an Int32Array",
    );
  });
});

describe('round trip', () => {
  it('reads back what it wrote, with metadata, shapes and values', () => {
    const w = new Float32Array(6).map((_, i) => i * 0.25 - 0.5);
    const bytes = writeSafetensors(
      {
        'encoder.layer.0.attention.self.query.weight': { dtype: 'F32', shape: [2, 3], data: w },
        'embeddings.word_embeddings.weight': { dtype: 'F16', shape: [3], data: new Float32Array([1, -2, 0.333251953125]) },
        'pooler.dense.bias': { dtype: 'BF16', shape: [2], data: new Float32Array([1, 3.140625]) },
        'q.ids': { dtype: 'I32', shape: [2], data: new Int32Array([-5, 2 ** 31 - 1]) },
        'q.int8': { dtype: 'I8', shape: [2, 1], data: new Int8Array([-128, 127]) },
        empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      },
      { format: 'pt', config: '{"hidden_size":384}' },
    );
    // From a view at an odd offset inside a larger buffer (no alignment assumed).
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const { tensors, metadata } = readSafetensors(big.subarray(3), 'rt.safetensors');
    expect(metadata).toEqual({ config: '{"hidden_size":384}', format: 'pt' });
    expect([...tensors.keys()]).toEqual(['empty', 'encoder.layer.0.attention.self.query.weight', 'q.ids', 'pooler.dense.bias', 'embeddings.word_embeddings.weight', 'q.int8']);
    const q = tensors.get('encoder.layer.0.attention.self.query.weight')!;
    expect(q.shape).toEqual([2, 3]);
    expect(q.dtype).toBe('F32');
    expect(Array.from(q.data)).toEqual(Array.from(w));
    expect(Array.from(tensors.get('embeddings.word_embeddings.weight')!.data)).toEqual([1, -2, 0.333251953125]);
    expect(Array.from(tensors.get('pooler.dense.bias')!.data)).toEqual([1, 3.140625]);
    expect(Array.from(tensors.get('q.ids')!.data)).toEqual([-5, 2 ** 31 - 1]);
    const i8 = tensors.get('q.int8')!;
    expect(i8.data).toBeInstanceOf(Int8Array);
    expect(Array.from(i8.data)).toEqual([-128, 127]);
    expect(tensors.get('empty')!.shape).toEqual([0, 4]);
    expect(floatData(q, 'q', 'rt')).toBe(q.data);
    expect(() => floatData(i8, 'q.int8', 'rt.safetensors')).toThrow("model file rt.safetensors: tensor 'q.int8' has dtype I8, expected a float dtype (F32, F16, BF16)");
  });

  it('reads F32 tensors from a Node Buffer (readFileSync), whose slice() is a view and not a copy', () => {
    const a = new Float32Array([1.5, -2, 3.25]);
    const b = new Float32Array([7, 8]);
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [3], data: a }, b: { dtype: 'F32', shape: [2], data: b } });
    // A Buffer at an offset inside a larger pooled buffer, as Node gives for small files.
    const pool = Buffer.alloc(bytes.length + 16);
    pool.set(bytes, 8);
    const { tensors } = readSafetensors(pool.subarray(8, 8 + bytes.length), 'buf.safetensors');
    expect(tensors.get('a')!.data).toHaveLength(3);
    expect(Array.from(tensors.get('a')!.data)).toEqual([1.5, -2, 3.25]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([7, 8]);
  });

  it('parses a file written by hand in the reference layout (I64 position ids, U8, F64)', () => {
    const i64 = new Uint8Array(16);
    new DataView(i64.buffer).setBigInt64(0, 0n, true);
    new DataView(i64.buffer).setBigInt64(8, 511n, true);
    const f64 = new Uint8Array(8);
    new DataView(f64.buffer).setFloat64(0, 0.1, true);
    const file = craft(
      {
        'embeddings.position_ids': { dtype: 'I64', shape: [1, 2], data_offsets: [0, 16] },
        x: { dtype: 'F64', shape: [1], data_offsets: [16, 24] },
        m: { dtype: 'U8', shape: [2], data_offsets: [24, 26] },
      },
      [...i64, ...f64, 200, 7],
      { pad: true },
    );
    const f = parseSafetensors(file.buffer as ArrayBuffer, 'bert.safetensors');
    expect(Array.from(decodeTensor(f.tensors.get('embeddings.position_ids')!).data)).toEqual([0, 511]);
    expect(decodeTensor(f.tensors.get('x')!).data[0]).toBeCloseTo(0.1, 7);
    expect(Array.from(decodeTensor(f.tensors.get('m')!).data)).toEqual([200, 7]);
    expect(f.metadata).toEqual({});
  });
});

describe('F16 and BF16', () => {
  it('decodes known half values', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x3555, 0.333251953125],
      [0x0400, 2 ** -14],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x0000, 0],
    ];
    for (const [bits, v] of cases) expect(f16BitsToF32(bits)).toBe(v);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
  });

  it('decodes known bfloat16 values', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc040, -3],
      [0x4049, 3.140625],
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x0080, 2 ** -126],
      [0x0001, 2 ** -133],
    ];
    for (const [bits, v] of cases) expect(bf16BitsToF32(bits)).toBe(v);
    expect(bf16BitsToF32(0x7fc0)).toBeNaN();
  });

  it('encodes to half with round-to-nearest-even, overflow to infinity, underflow to zero', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(-1e6)).toBe(0xfc00);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(3 * 2 ** -26)).toBe(0x0001); // 0.75 ulp rounds up
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie -> even (zero)
    expect(f32ToF16Bits(1e-9)).toBe(0x0000);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // largest subnormal rounds up to the smallest normal
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f16BitsToF32(f32ToF16Bits(NaN))).toBeNaN();
    for (let b = 0; b < 0x7c00; b += 37) expect(f32ToF16Bits(f16BitsToF32(b))).toBe(b);
  });

  it('encodes to bfloat16 with round-to-nearest-even', () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(f32ToBf16Bits(Math.PI)).toBe(0x4049);
    expect(f32ToBf16Bits(-Infinity)).toBe(0xff80);
    expect(f32ToBf16Bits(3.4e38)).toBe(0x7f80); // rounds past the largest bfloat16
    expect(bf16BitsToF32(f32ToBf16Bits(NaN))).toBeNaN();
  });
});

describe('malformed files', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, () => Uint8Array, string][] = [
    ['shorter than 8 bytes', () => new Uint8Array(5), 'model file m.st: truncated: 5 bytes, shorter than the 8-byte header length'],
    ['header length past the end', () => craft(ok, f32Bytes([1, 2]), { lengthField: 500 }), 'model file m.st: truncated: the header says it is 500 bytes but only 62 follow the length'],
    [
      'absurd header length',
      () => {
        const b = craft(ok, f32Bytes([1, 2]));
        new DataView(b.buffer).setUint32(4, 1, true);
        return b;
      },
      'model file m.st: header length 4294967350 is implausible (over 100000000 bytes): not a safetensors file?',
    ],
    ['header not JSON', () => craft('{"w": {', [], { pad: true }), 'model file m.st: the header is not valid JSON ('],
    ['header not starting with {', () => craft('PK\u0003\u0004 zip', []), `model file m.st: the header does not start with '{' (starts with "PK\\u0003\\u0004 zip"): not a safetensors file?`],
    ['header not UTF-8', () => { const b = craft('{"w":1}'); b[10] = 0xff; return b; }, 'model file m.st: the header is not valid UTF-8'],
    ['header an array', () => craft('[1, 2]', []), `model file m.st: the header does not start with '{' (starts with "[1, 2]"): not a safetensors file?`],
    ['unknown dtype', () => craft({ w: { dtype: 'Q4_K', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), "model file m.st: tensor 'w': dtype 'Q4_K' is unknown (supported: F64, F32, F16, BF16, I64, I32, I8, U8)"],
    ['unsupported dtype', () => craft({ w: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, [1, 0]), "model file m.st: tensor 'w': dtype 'BOOL' is not supported here (supported: F64, F32, F16, BF16, I64, I32, I8, U8)"],
    ['bad shape', () => craft({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, f32Bytes([1, 2])), "model file m.st: tensor 'w': shape [2,-1] is not a list of non-negative integers"],
    ['bad offsets', () => craft({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, f32Bytes([1, 2])), "model file m.st: tensor 'w': data_offsets [0] is not a pair of non-negative integers"],
    ['reversed offsets', () => craft({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, f32Bytes([1, 2])), "model file m.st: tensor 'w': data_offsets [8, 0] end before they begin"],
    [
      'shape product vs byte length',
      () => craft({ 'encoder.layer.0.output.dense.weight': { dtype: 'F16', shape: [2, 3], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
      "model file m.st: tensor 'encoder.layer.0.output.dense.weight': shape [2, 3] of F16 needs 12 bytes but data_offsets [0, 8] hold 8",
    ],
    [
      'offsets past the data (truncated download)',
      () => craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32Bytes([1, 2])),
      "model file m.st: tensor 'b': data_offsets [4, 12] run past the end of the data (8 bytes): truncated file?",
    ],
    [
      'overlapping tensors',
      () => craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32Bytes([1, 2])),
      "model file m.st: tensor 'b': data_offsets [4, 8] overlap tensor 'a' (which ends at 8)",
    ],
    [
      'a gap between tensors',
      () => craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32Bytes([1, 2, 3])),
      "model file m.st: tensor 'b': data_offsets [8, 12] leave a gap of 4 bytes after tensor 'a'",
    ],
    ['trailing bytes', () => craft(ok, [...f32Bytes([1, 2]), 0, 0]), 'model file m.st: the tensors cover 8 bytes of data but the file has 10: 2 unexplained trailing bytes'],
    ['metadata not strings', () => craft({ __metadata__: { step: 5 }, ...ok }, f32Bytes([1, 2])), 'model file m.st: __metadata__.step is not a string'],
    ['entry not an object', () => craft({ w: [1, 2] }, []), "model file m.st: tensor 'w': its header entry is not an object"],
  ];
  for (const [what, make, message] of cases) {
    it(`rejects ${what}`, () => {
      const e = errorOf(() => parseSafetensors(make(), 'm.st'));
      expect(e).toBeInstanceOf(SafetensorsError);
      if (message.endsWith('(')) expect(e.message.slice(0, message.length)).toBe(message);
      else expect(e.message).toBe(message);
    });
  }

  it('rejects I64 values that do not fit in 32 bits when decoding', () => {
    const d = new Uint8Array(8);
    new DataView(d.buffer).setBigInt64(0, 2n ** 40n, true);
    const f = parseSafetensors(craft({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, d), 'm.st');
    expect(() => decodeTensor(f.tensors.get('ids')!, 'ids', 'm.st')).toThrow("model file m.st: tensor 'ids': I64 element 0 (1099511627776) does not fit in 32 bits");
  });
});

describe('expectShapes', () => {
  const file = new Map([
    ['encoder.layer.0.attention.self.query.weight', { shape: [384, 384] }],
    ['embeddings.word_embeddings.weight', { shape: [8000, 128] }],
    ['embeddings.position_ids', { shape: [1, 512] }],
  ]);

  it('passes when names and shapes match', () => {
    expect(() =>
      expectShapes(file, { 'encoder.layer.0.attention.self.query.weight': [384, 384], 'embeddings.word_embeddings.weight': [8000, 128], 'embeddings.position_ids': [1, 512] }, 'e5.safetensors'),
    ).not.toThrow();
  });

  it('names the file, the tensor, its shape and the needed shape', () => {
    const e = errorOf(() =>
      expectShapes(file, { 'encoder.layer.0.attention.self.query.weight': [128, 128], 'embeddings.word_embeddings.weight': [8000, 128] }, 'e5-small-v2/model.safetensors', {
        ignoreUnexpected: (n) => n.endsWith('position_ids'),
      }),
    );
    expect(e).toBeInstanceOf(ShapeMismatchError);
    expect(e.message).toBe(
      "model file e5-small-v2/model.safetensors: tensor 'encoder.layer.0.attention.self.query.weight' has shape [384, 384], the config needs [128, 128]",
    );
  });

  it('reports every mismatching, missing and unexpected tensor', () => {
    const e = errorOf(() =>
      expectShapes(
        Object.fromEntries(file),
        { 'encoder.layer.0.attention.self.query.weight': [384], 'embeddings.word_embeddings.weight': [8000, 128], 'encoder.layer.0.attention.self.key.weight': [384, 384] },
        'm.safetensors',
      ),
    ) as ShapeMismatchError;
    expect(e.problems).toEqual([
      "tensor 'encoder.layer.0.attention.self.query.weight' has shape [384, 384], the config needs [384]",
      "tensor 'encoder.layer.0.attention.self.key.weight' is missing (the config needs [384, 384])",
      "tensor 'embeddings.position_ids' [1, 512] is unexpected (the config has no such weight)",
    ]);
    expect(e.message).toBe(`model file m.safetensors: 3 tensors do not match the config:\n  ${e.problems.join('\n  ')}`);
  });

  it('lists at most 20 problems in the message', () => {
    const spec: Record<string, number[]> = {};
    for (let i = 0; i < 25; i++) spec[`w${i}`] = [1];
    const e = errorOf(() => expectShapes(new Map(), spec, 'x')) as ShapeMismatchError;
    expect(e.problems).toHaveLength(25);
    expect(e.message.split('\n')).toHaveLength(22);
    expect(e.message.endsWith('... and 5 more')).toBe(true);
  });

  it('checks the tensors of a parsed file directly', () => {
    const bytes = writeSafetensors({ 'pooler.dense.weight': { dtype: 'F16', shape: [2, 2], data: new Float32Array(4) } });
    const f = parseSafetensors(bytes, 'p.safetensors');
    expect(() => expectShapes(f.tensors, { 'pooler.dense.weight': [2, 3] }, 'p.safetensors')).toThrow(
      "model file p.safetensors: tensor 'pooler.dense.weight' has shape [2, 2], the config needs [2, 3]",
    );
  });
});
