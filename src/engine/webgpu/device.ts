// Acquires a GPUDevice: navigator.gpu in the browser, the `webgpu` package (Dawn) in Node.

export interface AcquiredDevice {
  device: GPUDevice;
  adapterName: string;
  isFallbackAdapter: boolean;
}

// Dawn's GPU object must stay referenced for the process lifetime (a collected one crashes the worker).
let nodeGpu: GPU | null = null;

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

async function nodeGpuObject(): Promise<GPU> {
  if (nodeGpu) return nodeGpu;
  const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  if (proc && !proc.env.VK_ICD_FILENAMES) {
    const fs = await import(/* @vite-ignore */ 'node:fs');
    if (fs.existsSync(SWIFTSHADER_ICD)) proc.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  const name = 'webgpu';
  // The Dawn binding is a Node-only module; the variable keeps bundlers from pulling it into the browser build.
  const mod = (await import(/* @vite-ignore */ name)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, mod.globals);
  nodeGpu = mod.create(['enable-dawn-features=allow_unsafe_apis,disable_robustness']);
  return nodeGpu;
}

async function gpuObject(): Promise<GPU> {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  if (nav && 'gpu' in nav && nav.gpu) return nav.gpu;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (isNode) return nodeGpuObject();
  throw new Error('WebGPU is not available in this browser (navigator.gpu is missing)');
}

export async function acquireDevice(): Promise<AcquiredDevice> {
  const gpu = await gpuObject();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU: no adapter found (requestAdapter returned null)');
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  });
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length > 0);
  const adapterName = parts.length > 0 ? [...new Set(parts)].join(' / ') : 'unknown adapter';
  const isFallbackAdapter = Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter);
  return { device, adapterName, isFallbackAdapter };
}
