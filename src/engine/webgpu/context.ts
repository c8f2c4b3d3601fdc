// GpuContext: owns the device, the buffer arena, the pipeline cache and one open command encoder.
// Ops encode dispatches into the open encoder; it is submitted when something must be read back, flushed,
// overwritten from the host, or when it grows long. Nothing is read back unless a caller asks.
import { BufferArena } from './arena.ts';
import { PipelineCache, type Overrides } from './pipelines.ts';
import { GpuTensor } from './tensor.ts';
import type { DType } from '../types.ts';

const MAX_PENDING_DISPATCHES = 64;
const UNIFORM_BYTES = 256;

/** Builds a uniform block of 4-byte fields (u32 / i32 / f32), padded to 16 bytes. */
export class Params {
  private words: number[] = [];
  private kinds: ('u' | 'i' | 'f')[] = [];
  u32(v: number): this {
    this.words.push(v >>> 0);
    this.kinds.push('u');
    return this;
  }
  i32(v: number): this {
    this.words.push(v | 0);
    this.kinds.push('i');
    return this;
  }
  f32(v: number): this {
    this.words.push(v);
    this.kinds.push('f');
    return this;
  }
  bytes(): ArrayBuffer {
    const n = Math.max(4, Math.ceil(this.words.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const u = new Uint32Array(buf);
    const i = new Int32Array(buf);
    const f = new Float32Array(buf);
    this.words.forEach((w, k) => {
      const kind = this.kinds[k];
      if (kind === 'u') u[k] = w;
      else if (kind === 'i') i[k] = w;
      else f[k] = w;
    });
    return buf;
  }
}

export interface DispatchSpec {
  shader: string;
  entry?: string;
  overrides?: Overrides;
  /** Storage bindings in @binding order 0..n-1 of @group(0); the uniform block, if any, comes last. */
  buffers: (GpuTensor | GPUBuffer)[];
  params?: Params;
  workgroups: [number, number?, number?];
}

export class GpuContext {
  readonly arena: BufferArena;
  readonly pipelines: PipelineCache;
  private encoder: GPUCommandEncoder | null = null;
  private pendingDispatches = 0;
  private pendingRelease: GPUBuffer[] = [];
  private uniformPool: GPUBuffer[] = [];
  private uniformsInFlight: GPUBuffer[] = [];
  private readonly maxWorkgroups: number;
  dispatches = 0;
  submits = 0;
  /** Read-backs to the host so far (a training step should need none until its caller asks). */
  reads = 0;

  constructor(readonly device: GPUDevice) {
    this.arena = new BufferArena(device);
    this.pipelines = new PipelineCache(device);
    this.maxWorkgroups = device.limits.maxComputeWorkgroupsPerDimension;
  }

  private enc(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** A fresh tensor whose contents are undefined until a kernel writes them. */
  empty(shape: readonly number[], dtype: DType = 'f32', label?: string): GpuTensor {
    const size = shape.reduce((a, b) => a * b, 1);
    return new GpuTensor(this.arena.acquire(size * 4, label), shape, dtype);
  }

  upload(data: Float32Array | Int32Array | Uint32Array, shape: readonly number[], dtype: DType): GpuTensor {
    const t = this.empty(shape, dtype);
    if (data.byteLength > 0) this.device.queue.writeBuffer(t.buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return t;
  }

  /** Host write into an existing tensor: pending work that may read it is submitted first. */
  overwrite(t: GpuTensor, data: Float32Array | Int32Array | Uint32Array): void {
    this.submit();
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  }

  release(t: GpuTensor): void {
    if (t.disposed) return;
    t.disposed = true;
    this.pendingRelease.push(t.buffer);
    if (!this.encoder) this.recycle();
  }

  private recycle(): void {
    for (const b of this.pendingRelease) this.arena.release(b);
    this.pendingRelease = [];
    this.uniformPool.push(...this.uniformsInFlight);
    this.uniformsInFlight = [];
  }

  private uniform(p: Params): GPUBuffer {
    const bytes = p.bytes();
    if (bytes.byteLength > UNIFORM_BYTES) throw new Error('webgpu: uniform block too large');
    const buf =
      this.uniformPool.pop() ??
      this.device.createBuffer({ size: UNIFORM_BYTES, usage: 0x40 | 0x08 /* UNIFORM | COPY_DST */, label: 'params' });
    this.device.queue.writeBuffer(buf, 0, bytes);
    this.uniformsInFlight.push(buf);
    return buf;
  }

  dispatch(spec: DispatchSpec): void {
    const [x, y = 1, z = 1] = spec.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    for (const d of [x, y, z])
      if (d > this.maxWorkgroups)
        throw new Error(`webgpu: ${spec.shader} needs ${d} workgroups in one dimension (limit ${this.maxWorkgroups})`);
    const pipeline = this.pipelines.get(spec.shader, spec.entry ?? 'main', spec.overrides);
    const entries: GPUBindGroupEntry[] = spec.buffers.map((b, i) => ({
      binding: i,
      resource: { buffer: b instanceof GpuTensor ? b.buffer : b },
    }));
    if (spec.params) entries.push({ binding: entries.length, resource: { buffer: this.uniform(spec.params) } });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.enc().beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.dispatches++;
    if (++this.pendingDispatches >= MAX_PENDING_DISPATCHES) this.submit();
  }

  copy(src: GpuTensor, srcOffsetBytes: number, dst: GpuTensor, dstOffsetBytes: number, bytes: number): void {
    if (bytes > 0) this.enc().copyBufferToBuffer(src.buffer, srcOffsetBytes, dst.buffer, dstOffsetBytes, bytes);
  }

  submit(): void {
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.pendingDispatches = 0;
      this.submits++;
    }
    this.recycle();
  }

  async read(t: GpuTensor): Promise<ArrayBuffer> {
    const bytes = t.size * 4;
    this.reads++;
    if (bytes === 0) return new ArrayBuffer(0);
    const staging = this.device.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: 0x01 | 0x08 /* MAP_READ | COPY_DST */ });
    this.enc().copyBufferToBuffer(t.buffer, 0, staging, 0, bytes);
    this.submit();
    try {
      await staging.mapAsync(0x0001 /* GPUMapMode.READ */);
      return staging.getMappedRange(0, bytes).slice(0);
    } finally {
      staging.destroy();
    }
  }

  async flush(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    this.arena.trim();
    for (const b of this.uniformPool) b.destroy();
    this.device.destroy();
  }
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
