// Pipeline cache: one shader module per WGSL file, one compute pipeline per (file, entry point, overrides).
import { shaderSource } from './shaders.ts';

export type Overrides = Record<string, number>;

export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  get(shader: string, entryPoint = 'main', overrides: Overrides = {}): GPUComputePipeline {
    const key = `${shader}:${entryPoint}:${Object.keys(overrides)
      .sort()
      .map((k) => `${k}=${overrides[k]}`)
      .join(',')}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(shader);
      if (!module) {
        module = this.device.createShaderModule({ code: shaderSource(shader), label: shader });
        this.modules.set(shader, module);
      }
      p = this.device.createComputePipeline({
        layout: 'auto',
        label: key,
        compute: { module, entryPoint, constants: overrides },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
