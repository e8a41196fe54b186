// In Chromium: an admin watches /admin/dm while the bot comes online and a DM goes through the queue.
// Without a reload the page shows the bot connected, the DM's row moving to "Delivered" and the
// counts following it (topics admin:bot and admin:dm).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';

import { Stack, memberIds, startEmulator } from '../bridge/stack.mjs';

const [discordId] = memberIds(1, 330000000000000000n);
let emulator;
let stack;
let context;
let profileDir;

before(async () => {
  emulator = await startEmulator({ members: [{ id: discordId, username: 'dmwatch', roles: [] }] });
  stack = new Stack(emulator);
  await stack.startServer();
  stack.userId = stack.seedMembers([discordId]).get(discordId);
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitwall-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
    locale: 'en-GB',
  });
});

after(async () => {
  await context?.close();
  await stack?.stop();
  await emulator?.close();
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
});

test('the DM monitor shows the bot and a DM going through the queue without a reload', async () => {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });

  await page.goto(`${stack.base}/sign-in`);
  await page.click('form[action="/auth/demo"]:has(input[value="admin"]) button');
  await page.waitForURL(`${stack.base}/`);

  // A DM queued while no bot is connected waits as pending.
  const admin = await stack.signIn('admin');
  const queued = await stack.api(admin, '/api/admin/dm/messages', { body: { text: 'Practice tonight', user_ids: [stack.userId] } });
  assert.equal(queued.status, 202, queued.text);
  const [id] = queued.json.ids;

  const subscribed = new Promise((resolve) => {
    page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
      if (String(payload).includes('"subscribed"') && String(payload).includes('admin:bot')) resolve();
    }));
  });
  await page.goto(`${stack.base}/admin/dm`);
  await subscribed;
  await page.waitForSelector('[data-bot-status] [data-bot="disconnected"]');
  const row = page.locator(`tr[data-dm-id="${id}"]`);
  await row.waitFor();
  assert.match(await row.locator('[data-dm-status]').innerText(), /Pending/);
  const deliveredBefore = Number(await page.locator('[data-dm-count="delivered"]').innerText());

  await stack.startBot();
  await page.waitForSelector('[data-bot-status] [data-bot="connected"]', { timeout: 5000 });
  await page.waitForFunction((dmId) => /Delivered/.test(document.querySelector(`tr[data-dm-id="${dmId}"] [data-dm-status]`)?.textContent ?? ''),
    id, { timeout: 10_000 });
  await page.waitForFunction((n) => Number(document.querySelector('[data-dm-count="delivered"]')?.textContent) === n,
    deliveredBefore + 1, { timeout: 5000 });

  await stack.killBot('SIGKILL');
  await page.waitForSelector('[data-bot-status] [data-bot="disconnected"]', { timeout: 5000 });
  assert.deepEqual(problems, []);
  const messages = (await emulator.control('/messages')).filter((m) => m.recipient_id === discordId);
  assert.equal(messages.length, 1);
});
