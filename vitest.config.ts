import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { existsSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_ARGS } from './scripts/chromium.mjs';

// SwiftShader (shipped with Debian's chromium) gives WebGPU to both Node (Dawn) and headless Chromium.
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const project = (process.env.VITEST_PROJECT ?? '').trim();

export default defineConfig({
  // Pre-bundled up front, so the browser project never reloads mid-run to optimize a dependency it just met.
  optimizeDeps: { include: ['idb', 'comlink', 'onnxruntime-web'] },
  test: {
    projects: [
      {
        extends: true as const,
        test: {
          name: 'node',
          environment: 'node',
          include: ['tests/unit/**/*.test.ts'],
          env: existsSync(ICD) ? { VK_ICD_FILENAMES: ICD } : {},
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      ...(project === 'node'
        ? []
        : [
            {
              extends: true as const,
              test: {
                name: 'e2e',
                environment: 'node',
                include: ['tests/e2e/**/*.test.ts'],
                testTimeout: 900_000,
                hookTimeout: 120_000,
              },
            },
            {
              extends: true as const,
              test: {
                name: 'browser',
                include: ['tests/browser/**/*.test.ts'],
                testTimeout: 180_000,
                hookTimeout: 180_000,
                browser: {
                  enabled: true,
                  headless: true,
                  provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } }),
                  instances: [{ browser: 'chromium' as const }],
                },
              },
            },
          ]),
    ],
  },
});
