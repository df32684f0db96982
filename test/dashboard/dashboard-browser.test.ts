/**
 * GET /api/dashboard in headless Chromium (Debian `chromium` driven by playwright-core; no browser download):
 * a build started through the API, run by the real orchestration on the local Durable host against the ARM
 * emulator, appears with its status, phase timeline (SVG), current image and archived logs; without the key
 * the page is refused like the API. A screenshot of the build's row is taken (it fails unless the row is
 * visible with a size).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { APP_ENTRY, type AppHost, startAppHost } from '../api/app-host.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let app: AppHost;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: apt-get install -y chromium chromium-driver (.ci/run installs them)`,
    );
  }
  app = await startAppHost({ entryModules: [APP_ENTRY] });
  profile = mkdtempSync(join(tmpdir(), 'dashboard-chromium-'));
  // A fresh profile (--user-data-dir) per run; playwright passes it to Chromium.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 900 },
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('dashboard in headless Chromium', () => {
  it('shows a build started through the API: status, phase timeline, current image, archived logs', async () => {
    const started = await app.call('POST', '/api/builds', {
      body: { definition: 'aks-jumpbox', reason: 'dashboard test', force: true },
    });
    expect(started.status).toBe(202);
    const buildId = (started.body as { buildId: string }).buildId;
    const done = await app.host.waitForInstance(buildInstanceId('aks-jumpbox'), { timeoutMs: 90_000 });
    expect((done.output as { result: string }).result).toBe('Succeeded');

    const page = await browser.newPage();
    const res = await page.goto(
      `${app.host.baseUrl}/api/dashboard?code=${encodeURIComponent(app.host.functionKey)}`,
    );
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
    await expect(page.title()).resolves.toBe('Jump-box image builds');

    const row = page.locator(`tr.build[data-build-id="${buildId}"]`);
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await row.locator('.status').textContent()).toBe('Succeeded');
    // The timeline: one SVG rect per phase, each drawn with a width.
    const phases = await row
      .locator('svg.timeline rect')
      .evaluateAll((rects) =>
        rects.map((r) => ({ phase: r.getAttribute('data-phase'), width: r.getBoundingClientRect().width })),
      );
    expect(phases.map((p) => p.phase)).toEqual(expect.arrayContaining(['preflight', 'polling', 'revoking']));
    expect(phases.every((p) => p.width >= 1)).toBe(true);
    // Archived logs are links to the archive container.
    const logs = await row.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(logs.some((l) => l.endsWith('/customization.log'))).toBe(true);
    // The current image of the definition is this build's.
    const section = page.locator('section[data-definition="aks-jumpbox"]');
    expect(await section.textContent()).toContain(`from build ${buildId}`);

    const shot = await row.screenshot({ path: join(profile, 'build-row.png') });
    expect(shot.subarray(1, 4).toString('latin1')).toBe('PNG');
    const box = await row.boundingBox();
    expect(box?.width).toBeGreaterThan(400);
    expect(box?.height).toBeGreaterThan(10);
    await page.screenshot({ path: join(profile, 'dashboard.png'), fullPage: true });
    await page.close();
  }, 180_000);

  it('refuses the page without the function key, like the API', async () => {
    // An empty 401 body makes Chromium's navigation fail (ERR_HTTP_RESPONSE_CODE_FAILURE): ask through the
    // browser context's request API instead.
    const res = await browser.request.get(`${app.host.baseUrl}/api/dashboard`);
    expect(res.status()).toBe(401);
    expect(await res.text()).not.toContain('Jump-box image builds');
  });
});
