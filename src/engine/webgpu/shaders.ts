// Every WGSL kernel, by file name without extension (shaders/matmul_tiled.wgsl -> "matmul_tiled").
const files = import.meta.glob('../../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

export const SHADERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(files).map(([path, code]) => [path.replace(/^.*\//, '').replace(/\.wgsl$/, ''), code]),
);

export function shaderSource(name: string): string {
  const code = SHADERS[name];
  if (code === undefined) throw new Error(`WebGPU: no shader named "${name}" in shaders/ (have: ${Object.keys(SHADERS).join(', ')})`);
  return code;
}
