// In Chromium: an admin watches the sync page while an external scheduler triggers a job through
// POST /api/cron/{job}; the run appears in the table and turns "done" without a reload (the page
// subscribes to the "sync" topic on /ws).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { binDir, freePort, repo, waitForLine } from '../flows/harness.mjs';

const cronSecret = 'browser-test-cron-secret-0123456789abcdef';
let server;
let base;
let dataDir;
let context;
let profileDir;

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitwall-sync-browser-'));
  const env = {
    PATH: process.env.PATH,
    PITWALL_HTTP_LISTEN: `127.0.0.1:${port}`,
    PITWALL_DATA_DIR: dataDir,
    PITWALL_DEMO: 'true',
    PITWALL_LOG_LEVEL: 'warn',
    PITWALL_SECRETS_CRON_SECRET: cronSecret,
    PITWALL_SYNC_SCHEDULER: 'false',  // only the run this test triggers
  };
  server = spawn(path.join(binDir, 'pitwall-server'), [], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(server, /running at http/, 30000, 'pitwall-server');
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitwall-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--disable-quic'],
    locale: 'en-GB',
  });
});

after(async () => {
  await context?.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  for (const dir of [dataDir, profileDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the sync page shows a run live, without a reload', async () => {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().includes('/api/cron/')) problems.push(`${r.status()} ${r.url()}`); });

  await page.goto(`${base}/sign-in`);
  await page.click('form[action="/auth/demo"]:has(input[value="admin"]) button');
  await page.waitForURL(`${base}/`);
  await page.click('nav a[href="/admin/sync"]');  // the admin entry of the navigation
  await page.waitForURL(`${base}/admin/sync`);
  assert.equal(await page.locator('tr[data-job="housekeeping"]').count(), 1);
  assert.equal(await page.locator('tr[data-run-id]').count(), 0);
  let navigations = 0;
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });
  // Give the page's WebSocket a moment to subscribe before the run starts.
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/ws'))
    || true);
  await page.waitForTimeout(300);

  const refused = await fetch(`${base}/api/cron/housekeeping`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
  assert.equal(refused.status, 401);
  const started = await fetch(`${base}/api/cron/housekeeping`, {
    method: 'POST', headers: { authorization: `Bearer ${cronSecret}` },
  });
  assert.equal(started.status, 202);
  const { run_id: runId } = await started.json();

  const row = page.locator(`tr[data-run-id="${runId}"]`);
  await row.waitFor({ timeout: 5000 });
  await page.locator(`tr[data-run-id="${runId}"] .badge-run-ok`).waitFor({ timeout: 5000 });
  assert.equal((await row.locator('td').first().textContent()).trim(), 'housekeeping');
  assert.equal((await row.locator('td').nth(1).textContent()).trim(), 'External');
  assert.equal(navigations, 0, 'no reload');
  assert.deepEqual(problems, []);
});
