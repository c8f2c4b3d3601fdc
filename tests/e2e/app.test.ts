// End to end: the built app (vite preview) in Debian's headless Chromium, driven as a person would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright';
import { preview, type PreviewServer } from 'vite';
import { mkdirSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_BASE_ARGS, WEBGPU_ARGS } from '../../scripts/chromium.mjs';

const SHOTS = 'tests/e2e/screenshots';

let server: PreviewServer;
let url = '';

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await preview({ preview: { port: 0, strictPort: false, host: '127.0.0.1' }, logLevel: 'warn' });
  url = server.resolvedUrls?.local[0] ?? '';
  if (!url) throw new Error('vite preview did not report a URL (was `vite build` run first?)');
});

afterAll(async () => {
  await server?.close();
});

async function launch(webgpu: boolean): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: webgpu ? [...CHROMIUM_BASE_ARGS, ...WEBGPU_ARGS] : [...CHROMIUM_BASE_ARGS, '--disable-webgpu'],
  });
}

describe('first page', () => {
  it('shows the WebGPU backend and a passing live kernel self-test', async () => {
    const browser = await launch(true);
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await expect.poll(() => page.locator('h1').textContent()).toContain('Search-R2 Playground');
      const backend = page.getByTestId('backend');
      await backend.getByText('Backend: WebGPU').waitFor({ timeout: 60_000 });
      // The self-test runs when asked (it would compete with training for the GPU).
      const summary = page.getByTestId('selftest-summary');
      await summary.getByText(/^Not run yet/).waitFor({ timeout: 60_000 });
      await page.getByTestId('selftest-run').click();
      await summary.getByText(/passed, \d+ failed/).waitFor({ timeout: 600_000 });
      const text = (await summary.textContent()) ?? '';
      await page.getByTestId('panel-selftest').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SHOTS}/first-page-webgpu.png`, fullPage: false });
      expect(text).toMatch(/^\d+ passed, 0 failed/);
      // Every kernel family is listed and passed; opening one shows its cases.
      const families = page.locator('details[data-kernel]');
      expect(await families.count()).toBeGreaterThanOrEqual(10);
      expect(await page.locator('details[data-kernel].pass').count()).toBe(await families.count());
      await page.locator('details[data-kernel="attention"] summary').click();
      await page.locator('details[data-kernel="attention"] tr.pass').first().waitFor();
      await page.screenshot({ path: `${SHOTS}/first-page-attention-cases.png` });
      expect(Number(text.split(' ')[0])).toBeGreaterThan(10);
      // The button re-runs the self-test.
      await page.getByTestId('selftest-run').click();
      await summary.getByText('Running…').waitFor();
      await summary.getByText(/passed, 0 failed/).waitFor({ timeout: 600_000 });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('falls back to the CPU backend with a visible notice when WebGPU is missing', async () => {
    const browser = await launch(false);
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
      await page.goto(url);
      const backend = page.getByTestId('backend');
      await backend.getByText('Backend: CPU fallback').waitFor({ timeout: 60_000 });
      expect(await backend.textContent()).toMatch(/Reason: .+/);
      await page.getByTestId('selftest-summary').getByText(/^Not run yet/).waitFor({ timeout: 60_000 });
      await page.getByTestId('selftest-run').click();
      await page.getByTestId('selftest-summary').getByText(/Not run: no WebGPU/).waitFor({ timeout: 60_000 });
      await page.screenshot({ path: `${SHOTS}/first-page-cpu-fallback.png` });
    } finally {
      await browser.close();
    }
  });
});
