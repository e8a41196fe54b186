// In Chromium: sign in with Discord, then link iRacing and Garage61, clicking what a member clicks.
// The providers are real oidc-provider servers on loopback; the browser is Debian's chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { fixtures, startPeers, startPitwall } from '../flows/harness.mjs';

let peers;
let pitwall;
let context;
let profileDir;

before(async () => {
  peers = await startPeers();
  pitwall = await startPitwall(peers);
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitwall-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--disable-quic'],
    locale: 'tr-TR',
    timezoneId: 'Europe/Istanbul',
  });
});

after(async () => {
  await context?.close();
  await pitwall?.stop();
  peers?.stop();
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
});

test('sign in with Discord, link iRacing and Garage61', async () => {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });

  await page.goto(`${pitwall.base}/sign-in`);
  assert.equal(await page.getAttribute('html', 'lang'), 'tr');
  await page.click('button.button-discord');
  await page.click('#login-member1');           // the provider's login page
  await page.waitForURL(`${pitwall.base}/`);
  const nick = fixtures.discord.users.member1.member.nick;
  assert.ok((await page.textContent('.site-header')).includes(nick), 'signed in; the nickname in the header');

  for (const provider of ['iracing', 'garage61']) {
    await page.goto(`${pitwall.base}/profile`);
    await page.click(`form[action="/profile/accounts/${provider}/link"] button`);
    await page.click('#login-member1');
    await page.waitForURL(`${pitwall.base}/profile`);
    assert.equal(await page.locator(`form[action="/profile/accounts/${provider}/unlink"]`).count(), 1, `${provider} linked`);
  }

  const userId = pitwall.sql(`SELECT id FROM users WHERE discord_id = '${fixtures.discord.users.member1.id}'`)[0].id;
  const links = pitwall.sql(`SELECT provider, subject FROM linked_accounts WHERE user_id = ${userId} ORDER BY provider`);
  assert.deepEqual(links.map((l) => l.provider), ['garage61', 'iracing']);
  assert.equal(links[1].subject, String(fixtures.iracing.users.member1.cust_id));
  await page.screenshot({ path: path.join(os.tmpdir(), 'pitwall-profile.png'), fullPage: true });
  assert.deepEqual(problems.filter((p) => /Content Security Policy/.test(p)), [], 'no CSP violations');
});
