// A buffer arena: storage buffers are recycled by size class instead of created and destroyed per op.
// Released buffers only become reusable after the commands that used them were submitted (see GpuContext),
// so a queue.writeBuffer into a recycled buffer can never overtake an earlier, still-unsubmitted dispatch.

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST (GPUBufferUsage may be absent at import time)

/** Size classes: multiples of 256 B up to 4 KiB, then powers of two with 4 steps per octave. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 4;
  return Math.ceil(b / step) * step;
}

export class BufferArena {
  private free = new Map<number, GPUBuffer[]>();
  private live = 0;
  private pooledBytes = 0;
  created = 0;
  reused = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, label?: string): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    const buf = list?.pop();
    this.live++;
    if (buf) {
      this.reused++;
      this.pooledBytes -= size;
      return buf;
    }
    this.created++;
    return this.device.createBuffer({ size, usage: STORAGE_USAGE, label });
  }

  release(buf: GPUBuffer): void {
    this.live--;
    const list = this.free.get(buf.size) ?? [];
    list.push(buf);
    this.free.set(buf.size, list);
    this.pooledBytes += buf.size;
  }

  /** Destroys pooled (not live) buffers. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }

  stats(): { live: number; pooledBytes: number; created: number; reused: number } {
    return { live: this.live, pooledBytes: this.pooledBytes, created: this.created, reused: this.reused };
  }
}
