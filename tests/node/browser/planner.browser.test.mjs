// In Chromium: an admin plans an endurance race on /events/<id>/planner while a member watches the
// event page. The admin saves the settings, forms the crews (stage 1) and assigns the stints (stage 2)
// through the page, then drags a driver chip onto a stint in which that driver is unavailable: while
// hovering, the page shows what the drop would break (POST .../plan/preview); after the drop the
// crew's alert region names the member and the rule, the API's plan has the driver on that stint and
// Publish is disabled. Dragging the chip back clears the violation. The member's page follows every
// change live (/ws topic "event:<id>", {"type":"plan"}), without a reload.
//
// Data: the demo seed (members, zones) plus one event written straight into the SQLite file: a 6-hour
// race in three days with four registered drivers; three are available all race, the fourth ("late")
// only in the first three hours, so stage 2 gives them stint 1 or 2 and stint 5 is out of their hours.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { binDir, freePort, repo, waitForLine } from '../flows/harness.mjs';

let server;
let base;
let dataDir;
let browser;
let serverLog = '';

const hour = 3600;
const raceHours = 6;
const seeded = {};

function sql(query) {
  const out = execFileSync('sqlite3', ['-json', path.join(dataDir, 'pitwall.db'), query], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

function seedEvent() {
  const now = Math.floor(Date.now() / 1000);
  const starts = (Math.floor(now / 86400) + 3) * 86400 + 16 * hour;  // 16:00 UTC: evening in London, daytime in New York
  // The demo member who signs in (the first member by id) drives, with three more members.
  const members = sql("SELECT id, COALESCE(nickname, global_name, username) AS name FROM users WHERE discord_id LIKE 'demo-%' AND site_role = 'member' ORDER BY id LIMIT 4");
  assert.equal(members.length, 4, 'the demo seed has members');
  const [viewer, a, b, late] = members;
  const statements = [
    'BEGIN;',
    `UPDATE users SET locale = 'en' WHERE discord_id LIKE 'demo-%';`,
    `INSERT INTO events (name, track, car_class, starts_at, duration_min, created_at, updated_at) VALUES ('Planner Test 6h', 'Road Atlanta', 'GT3', ${starts}, ${raceHours * 60}, ${now}, ${now});`,
  ];
  for (const m of members) {
    statements.push(`INSERT INTO event_registrations (event_id, user_id, role, source, note, created_at, updated_at) VALUES ((SELECT max(id) FROM events), ${m.id}, 'driver', 'web', '', ${now}, ${now});`);
    const hours = m === late ? 3 : raceHours;
    for (let h = 0; h < hours; h += 1)
      statements.push(`INSERT INTO event_availability (event_id, user_id, hour_start) VALUES ((SELECT max(id) FROM events), ${m.id}, ${starts + h * hour});`);
  }
  statements.push('COMMIT;');
  execFileSync('sqlite3', [path.join(dataDir, 'pitwall.db')], { input: statements.join('\n') });
  const [event] = sql("SELECT id FROM events WHERE name = 'Planner Test 6h'");
  Object.assign(seeded, { eventId: event.id, starts, viewer, late, others: [a, b] });
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitwall-planner-browser-'));
  const env = {
    PATH: process.env.PATH,
    PITWALL_HTTP_LISTEN: `127.0.0.1:${port}`,
    PITWALL_DATA_DIR: dataDir,
    PITWALL_DEMO: 'true',
    PITWALL_LOG_LEVEL: 'warn',
    PITWALL_SYNC_SCHEDULER: 'false',
  };
  server = spawn(path.join(binDir, 'pitwall-server'), [], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.on('data', (c) => { serverLog += c.toString(); });
  await waitForLine(server, /running at http/, 30000, 'pitwall-server');
  seedEvent();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function signedInPage(role, problems) {
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  // Chromium asks for /favicon.ico on its own in fresh contexts (the pages name /static/favicon.svg).
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location()?.url?.endsWith('/favicon.ico')) problems.push(`${role}: ${m.text()} (${m.location()?.url})`);
  });
  page.on('pageerror', (e) => problems.push(`${role}: ${e}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${role}: ${r.status()} ${r.url()}`); });
  await page.goto(`${base}/sign-in`);
  await page.click(`form[action="/auth/demo"]:has(input[value="${role}"]) button`);
  await page.waitForURL(`${base}/`);
  return page;
}

// Resolves when the page's /ws answers its subscription to the event's topic.
function subscribedTo(page, topic) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "subscribed" frame for ${topic}`)), 5000);
    page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
      let frame;
      try { frame = JSON.parse(String(payload)); } catch { return; }
      if (frame.type === 'subscribed' && frame.topic === topic) { clearTimeout(timer); resolve(); }
    }));
  });
}

async function apiPlan(page) {
  const res = await page.request.get(`${base}/api/events/${seeded.eventId}/plan`, { headers: { accept: 'application/json' } });
  assert.equal(res.status(), 200, await res.text());
  return res.json();
}

async function revisionOf(page) {
  return Number(await page.locator('[data-planner]').getAttribute('data-plan-revision'));
}

async function waitForRevisionAbove(page, revision) {
  await page.waitForFunction((r) => Number(document.querySelector('[data-planner]')?.getAttribute('data-plan-revision')) > r,
    revision, { timeout: 10_000 });
}

test('drag-to-swap in the planner shows the rule it breaks, and the event page follows live', async (t) => {
  const problems = [];
  const topic = `event:${seeded.eventId}`;
  const { late } = seeded;

  // The member watches the event page first (no plan yet).
  const member = await signedInPage('member', problems);
  const memberLive = subscribedTo(member, topic);
  await member.goto(`${base}/events/${seeded.eventId}`);
  await memberLive;
  await member.locator('[data-plan-empty]').waitFor({ state: 'visible' });
  await member.evaluate(() => { window.__plannerTestMarker = 'no-reload'; });

  const admin = await signedInPage('admin', problems);
  const adminLive = subscribedTo(admin, topic);
  await admin.goto(`${base}/events/${seeded.eventId}`);
  const plannerLink = admin.locator(`a[href="/events/${seeded.eventId}/planner"]`);
  assert.equal(await plannerLink.count(), 1, 'admins get a link to the planner');
  assert.equal(await member.locator(`a[href="/events/${seeded.eventId}/planner"]`).count(), 0, 'members do not');
  await plannerLink.click();
  await admin.waitForURL(`${base}/events/${seeded.eventId}/planner`);
  await adminLive;
  await admin.locator('[data-planner][data-plan-revision]').waitFor();

  // Settings: one car, saved through the form.
  let revision = await revisionOf(admin);
  await admin.fill('#s-crews', '1');
  await admin.click('form[data-plan-settings] button[type="submit"]');
  await waitForRevisionAbove(admin, revision);
  assert.equal((await apiPlan(admin)).settings.crews, 1);

  // Stage 1, then stage 2, through the buttons.
  revision = await revisionOf(admin);
  await admin.click('[data-action="form-crews"]');
  await waitForRevisionAbove(admin, revision);
  await admin.locator('[data-planner-crews] section[data-crew="0"]').waitFor();
  revision = await revisionOf(admin);
  await admin.click('[data-action="assign-all"]');
  await waitForRevisionAbove(admin, revision);
  assert.equal(await admin.locator('[data-planner-alert]').isVisible(), false,
    `no error: ${await admin.locator('[data-planner-alert]').textContent()}`);

  let plan = await apiPlan(admin);
  assert.equal(plan.crews.length, 1, 'one crew');
  const crew = plan.crews[0];
  assert.equal(crew.drivers.length, 4, 'all four drivers are in it');
  assert.deepEqual(crew.violations, [], 'stage 2 gives a valid plan');
  assert.ok(crew.stints.length >= 5, `a 6-hour race has 5+ stints: ${crew.stints.length}`);
  const lateStints = crew.stints.filter((s) => s.driver === late.id);
  assert.ok(lateStints.length >= 1, 'the late member drives (fair share)');
  const from = lateStints[0];
  const to = crew.stints[4];  // starts past the late member's three hours
  assert.ok(to.starts_at >= seeded.starts + 3 * hour || to.ends_at > seeded.starts + 3 * hour);
  assert.notEqual(to.driver, late.id);
  const swappedIn = to.driver;
  const publish = admin.locator('[data-action="publish"]');
  // The admin (Europe/London) sees the race run into the night (local 20:00 on); the member
  // (America/New_York) races in daylight.
  assert.ok(await admin.locator('[data-timeline="0"] .plan-night').count() >= 1, 'night shading for the admin');
  assert.equal(await publish.isDisabled(), false, 'a valid plan may be published');

  // The member's page drew the crews and timeline without a reload, and their itinerary.
  const memberSeg = (stint) => member.locator(`[data-timeline="0"] .plan-seg[data-stint="${stint}"]`);
  await member.waitForFunction((s) => document.querySelector(`[data-timeline="0"] .plan-seg[data-stint="${s.stint}"]`)
    ?.getAttribute('data-driver') === String(s.driver), { stint: to.stint, driver: to.driver }, { timeout: 5000 });
  assert.equal(await member.locator('[data-timeline="0"] .plan-night').count(), 0, 'no night for the member');
  const viewerDuties = crew.stints.filter((s) => s.driver === seeded.viewer.id).length;
  assert.equal(await member.locator('[data-plan-itinerary-list] li').count(), viewerDuties, 'my itinerary lists my stints');

  // Drag the late member's chip onto stint 5: hover first (live validation), then drop.
  const chip = admin.locator(`section[data-crew="0"] td[data-drop="driver"][data-stint="${from.stint}"] [data-chip="driver"]`);
  const target = admin.locator(`section[data-crew="0"] td[data-drop="driver"][data-stint="${to.stint}"]`);
  const expected = `${late.name} is unavailable during stint ${to.stint + 1}.`;
  await chip.hover();
  await admin.mouse.down();
  const box = await target.boundingBox();
  await admin.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
  await admin.mouse.move(box.x + box.width / 2 + 2, box.y + box.height / 2, { steps: 2 });
  const preview = admin.locator('[data-crew-preview="0"]');
  await admin.waitForFunction((text) => document.querySelector('[data-crew-preview="0"]')?.textContent.includes(text),
    expected, { timeout: 5000 });
  t.diagnostic(`preview while hovering: ${(await preview.textContent()).trim()}`);
  revision = await revisionOf(admin);
  await admin.mouse.up();
  await waitForRevisionAbove(admin, revision);

  const alert = admin.locator('[data-crew-violations="0"]');
  assert.equal(await alert.getAttribute('role'), 'alert');
  await admin.waitForFunction((text) => document.querySelector('[data-crew-violations="0"]')?.textContent.includes(text),
    expected, { timeout: 5000 });
  assert.ok(await alert.isVisible());
  assert.equal(await preview.isVisible(), false, 'the preview goes with the drag');
  plan = await apiPlan(admin);
  const stintsAfter = plan.crews[0].stints;
  assert.equal(stintsAfter[to.stint].driver, late.id, 'the API has the late member on the target stint');
  assert.equal(stintsAfter[from.stint].driver, swappedIn, 'and the target\'s driver on the source stint');
  const violation = plan.crews[0].violations.find((v) => v.code === 'planner.unavailable' && v.member === late.id);
  assert.ok(violation, JSON.stringify(plan.crews[0].violations));
  assert.equal(violation.stint, to.stint);
  assert.equal(violation.text, expected, 'the API carries the localized text');
  assert.equal(plan.publishable, false);
  assert.equal(await publish.isDisabled(), true, 'Publish is disabled while rules are broken');
  assert.equal(await admin.locator('[data-publish-reason]').isVisible(), true, 'and says why');

  if (process.env.PITWALL_SCREENSHOTS) {  // a directory: what the pages look like with a violation
    await admin.screenshot({ path: path.join(process.env.PITWALL_SCREENSHOTS, 'planner.png'), fullPage: true });
    await member.screenshot({ path: path.join(process.env.PITWALL_SCREENSHOTS, 'event.png'), fullPage: true });
  }

  // The member sees the swap without a reload.
  await member.waitForFunction((s) => document.querySelector(`[data-timeline="0"] .plan-seg[data-stint="${s.stint}"]`)
    ?.getAttribute('data-driver') === String(s.driver), { stint: to.stint, driver: late.id }, { timeout: 5000 });
  assert.match(await memberSeg(to.stint).getAttribute('title'), new RegExp(late.name));

  // Drag it back (Playwright's dragTo this time): the violation disappears.
  revision = await revisionOf(admin);
  await admin.locator(`section[data-crew="0"] td[data-drop="driver"][data-stint="${to.stint}"] [data-chip="driver"]`)
    .dragTo(admin.locator(`section[data-crew="0"] td[data-drop="driver"][data-stint="${from.stint}"]`));
  await waitForRevisionAbove(admin, revision);
  await admin.waitForFunction((text) => !document.querySelector('[data-crew-violations="0"]')?.textContent.includes(text),
    expected, { timeout: 5000 });
  plan = await apiPlan(admin);
  assert.deepEqual(plan.crews[0].violations, []);
  assert.equal(plan.crews[0].stints[from.stint].driver, late.id);
  assert.equal(plan.crews[0].stints[to.stint].driver, swappedIn);
  assert.equal(await publish.isDisabled(), false, 'Publish is possible again');
  await member.waitForFunction((s) => document.querySelector(`[data-timeline="0"] .plan-seg[data-stint="${s.stint}"]`)
    ?.getAttribute('data-driver') === String(s.driver), { stint: to.stint, driver: swappedIn }, { timeout: 5000 });
  assert.equal(await member.evaluate(() => window.__plannerTestMarker), 'no-reload', 'the member\'s page never reloaded');

  assert.deepEqual(problems, [], serverLog);
});
