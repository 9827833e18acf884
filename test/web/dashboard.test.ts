import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { webRoot } from '../../src/site/dashboardRoutes.js';
import { startDemo, type Demo } from '../../src/site/runDemo.js';
import { ok, tempDir } from '../helpers/cli.js';
import { until } from '../helpers/loopbackSites.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../bench/headlessChromium.js';

/**
 * The dashboard in Debian's chromium (playwright-core drives it; no browser is downloaded): it shows
 * the three replicas of the family, a lag that falls to zero when the sync scripts run (with no
 * reload: the page follows the server's events), and the automatic rename with its remedy. It saves
 * the screenshots docs/screenshots/ holds (light, dark, phone) when MSITE_SCREENSHOTS names that directory.
 */

/**
 * Where the screenshots go: a temporary directory, so a test run changes no tracked file;
 * `MSITE_SCREENSHOTS=docs/screenshots npm test` renews the ones the README shows.
 */
const SCREENSHOTS = process.env.MSITE_SCREENSHOTS ? resolve(process.env.MSITE_SCREENSHOTS) : tempDir('msite-screenshots-');

/** What the test needs of a running family: where boston's dashboard is, and how to make the sites catch up. */
export interface DashboardScene {
  url: string;
  replicas: string[];
  /** The label type two sites made under one name; the second to arrive is renamed. */
  clash: string;
  /** Runs `sync_export_list -quiet 1 -all` at the sites, so every sibling gets what it lacks. */
  catchUp(): Promise<void>;
}

/**
 * A running `msite demo` (startDemo, its commands in this process, its daemons `msite serve` child
 * processes): seed 000's three sites, bangalore through a relay, and seed 002's clash (boston_hub and
 * sanfran_hub each make lbtype V2.0). No changes after the set-up, so every lag can reach zero.
 * Catching up is what the demo's jobs do every minute, started at once through each daemon.
 */
async function demoScene(root: string): Promise<DashboardScene> {
  const demo = await startDemo({ run: async (home, args) => void (await ok(args, { home })), changeEveryMs: 0, tmpDir: root });
  demos.push(demo);
  return {
    url: demo.urls[0]!,
    replicas: demo.sites.map((s) => s.name),
    clash: 'V2.0',
    catchUp: async () => {
      for (const home of demo.homes) {
        await ok(['schedule', '--run', demo.jobs.export], { home });
        await ok(['schedule', '--wait', demo.jobs.export], { home });
      }
    },
  };
}

const demos: Demo[] = [];
afterAll(async () => {
  for (const d of demos.splice(0)) await d.stop();
});

let context: BrowserContext | undefined;
afterAll(async () => {
  await context?.close();
});

const lagOf = async (page: Page, replica: string): Promise<number> =>
  Number((await page.locator(`[data-testid="lag-${replica}"]`).textContent())?.replace(/,/g, ''));

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in a browser', () => {
  it('shows the family, a lag that falls to zero without a reload, and the rename with its remedy; screenshots', async () => {
    expect(existsSync(join(webRoot(), 'index.html')), 'the front-end is built: run npm run build').toBe(true);
    const root = tempDir('msite-web-');
    const scene = await demoScene(root);
    context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 1280, height: 800 },
      colorScheme: 'light',
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(scene.url);
    await page.locator('[data-testid="connection"]', { hasText: 'live' }).waitFor();

    const family = (await page.locator('svg.family').textContent()) ?? '';
    for (const r of scene.replicas) expect(family).toContain(r);
    const siblings = scene.replicas.slice(1);
    for (const r of siblings) expect(await lagOf(page, r)).toBeGreaterThan(0);
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    // What a site imports after its own export puts it ahead again until its next export, as the
    // demo's every-minute jobs would do: run them again every few seconds until the page shows no lag.
    let lastRound = 0;
    await until(
      'every lag on the page is zero',
      async () => {
        if ((await Promise.all(siblings.map((r) => lagOf(page, r)))).every((n) => n === 0)) return true;
        if (Date.now() - lastRound > 3_000) {
          await scene.catchUp();
          lastRound = Date.now();
        }
        return false;
      },
      90_000,
    );
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // sanfran_hub's V2.0 reached boston_hub through the jobs and its receipt handler, and was renamed.
    const rename = page.locator('[data-testid="conflict"]', { hasText: `lbtype:${scene.clash}` });
    await rename.waitFor({ timeout: 30_000 });
    expect(await rename.locator('[data-testid="remedy"]').textContent()).toContain(
      `msite rename --vob /vobs/dev lbtype:${scene.clash} ${scene.clash}_sanfran_hub`,
    );

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-light.png'), fullPage: true });

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-dark.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-phone.png') });
    // Nothing wider than the phone's screen: tables scroll inside their cards.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  });
});
