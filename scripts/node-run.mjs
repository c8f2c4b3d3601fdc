#!/usr/bin/env node
// Runs a TypeScript entry of ours in Node through Vite's module runner, so the same sources the browser uses
// (WGSL imported via import.meta.glob, .ts imports) run unchanged in the CLI and the Node benchmarks.
// Usage: node scripts/node-run.mjs src/cli/main.ts [args...]
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runnerImport } from 'vite';

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/node-run.mjs <entry.ts> [args...]');
  process.exit(2);
}
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;

const { module } = await runnerImport(resolve(entry), { logLevel: 'warn', configFile: false });
if (typeof module.main !== 'function') {
  console.error(`${entry} exports no main(args)`);
  process.exit(2);
}
const code = await module.main(rest);
process.exit(typeof code === 'number' ? code : 0);
