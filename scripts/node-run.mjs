#!/usr/bin/env node
// Runs a TypeScript entry of ours in Node through a Vite server's SSR module loader, so the same sources the
// browser uses (WGSL through import.meta.glob, .ts imports, run-time dynamic imports) run unchanged in the CLI
// and the Node benchmarks. The server stays open until the entry's main() has finished.
// Usage: node scripts/node-run.mjs src/cli/main.ts [args...]
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer } from 'vite';

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/node-run.mjs <entry.ts> [args...]');
  process.exit(2);
}
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;

const server = await createServer({
  configFile: false,
  logLevel: 'warn',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
});
let code = 1;
try {
  const mod = await server.ssrLoadModule(resolve(entry));
  if (typeof mod.main !== 'function') {
    console.error(`${entry} exports no main(args)`);
    code = 2;
  } else {
    const r = await mod.main(rest);
    code = typeof r === 'number' ? r : 0;
  }
} catch (e) {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  code = 1;
} finally {
  await server.close();
}
process.exit(code);
