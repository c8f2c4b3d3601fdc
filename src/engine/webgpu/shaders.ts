// Every WGSL kernel, by file name without extension (shaders/matmul_tiled.wgsl -> "matmul_tiled").
// Under Vite (app, vitest, CLI through scripts/node-run.mjs) the files are inlined by import.meta.glob. Under a
// plain Node loader that does not transform import.meta.glob (tsx, --experimental-strip-types), ensureShaders()
// reads them from disk instead, so the public API still works there.

const registry = new Map<string, string>();

function fromGlob(): Record<string, string> | null {
  try {
    return import.meta.glob('../../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
  } catch {
    return null; // import.meta.glob was not transformed by a bundler
  }
}

function register(files: Record<string, string>): void {
  for (const [path, code] of Object.entries(files)) registry.set(path.replace(/^.*\//, '').replace(/\.wgsl$/, ''), code);
}

const globbed = fromGlob();
if (globbed) register(globbed);

/** Makes sure every shader is loaded (reads shaders/ from disk when no bundler inlined them). */
export async function ensureShaders(): Promise<void> {
  if (registry.size > 0) return;
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
  const dir = new URL(/* @vite-ignore */ '../../../shaders/', import.meta.url);
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wgsl'));
  const files: Record<string, string> = {};
  for (const n of names) files[n] = await fs.readFile(new URL(n, dir), 'utf8');
  register(files);
}

export function shaderNames(): string[] {
  return [...registry.keys()];
}

export function shaderSource(name: string): string {
  const code = registry.get(name);
  if (code === undefined) throw new Error(`WebGPU: no shader named "${name}" in shaders/ (have: ${shaderNames().join(', ')})`);
  return code;
}
