// Debian's Chromium, headless, as the tests, the benchmarks and the end-to-end runs launch it (ENV.md):
// no background networking (this machine has no network), and WebGPU on SwiftShader when asked.
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_BASE_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-dawn-features=disable_robustness'];

export const CHROMIUM_ARGS = [...CHROMIUM_BASE_ARGS, ...WEBGPU_ARGS];
