// Role sync both ways through the bot:
//   Discord -> site: a member's guild roles change in Discord (GUILD_MEMBER_UPDATE) and the site role
//   is remapped at once through the admin-editable mapping;
//   site -> Discord: registering for an event on the web gives the member the event's Discord role,
//   withdrawing takes it away (roles.apply through the bot's REST client).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Stack, memberIds, startEmulator, waitUntil } from './stack.mjs';

const ROLES = { admin: '900000000000000002', driver: '900000000000000004' };
const [discordMember, webMember, syncedMember] = memberIds(3, 310000000000000000n);
let emulator;
let stack;

async function guildRoles(userId) {
  const state = await emulator.control('/state');
  return state.members.find((m) => m.id === userId)?.roles ?? [];
}

before(async () => {
  emulator = await startEmulator({
    members: [
      { id: discordMember, username: 'rolesync', roles: [] },
      { id: webMember, username: 'webmember', roles: [] },
      { id: syncedMember, username: 'synced', roles: [ROLES.driver] },
    ],
  });
  stack = new Stack(emulator);
  await stack.startServer();
  stack.seedMembers([discordMember, syncedMember]);
  await stack.startBot();
});

after(async () => {
  await stack?.stop();
  await emulator?.close();
});

test('a Discord role change remaps the site role at once', async () => {
  const owner = await stack.signIn('owner');
  const mapped = await stack.api(owner, `/api/admin/role-mappings/${ROLES.admin}`, {
    method: 'PUT', body: { site_role: 'admin', label: 'Admin' },
  });
  assert.equal(mapped.status, 204, mapped.text);
  const role = () => stack.sql(`SELECT site_role FROM users WHERE discord_id = '${discordMember}'`)[0].site_role;
  assert.equal(role(), 'member');

  const started = Date.now();
  await emulator.control(`/members/${discordMember}/roles`, { method: 'POST', body: { roles: [ROLES.admin] } });
  await waitUntil(() => role() === 'admin', 5000, 'the site role to become admin');
  const promotedMs = Date.now() - started;
  assert.deepEqual(JSON.parse(stack.sql(`SELECT discord_roles FROM users WHERE discord_id = '${discordMember}'`)[0].discord_roles),
                   [ROLES.admin]);

  await emulator.control(`/members/${discordMember}/roles`, { method: 'POST', body: { roles: [] } });
  await waitUntil(() => role() === 'member', 5000, 'the site role to fall back to member');
  console.log(`role sync: Discord role change reached the site in ${promotedMs} ms`);
});

test('registering on the web gives the event\'s Discord role; withdrawing takes it away', async () => {
  const event = stack.sql('SELECT id FROM events ORDER BY starts_at LIMIT 1')[0].id;
  stack.sql(`UPDATE events SET discord_role_id = '${ROLES.driver}' WHERE id = ${event}`);
  // A demo member signs in on the web; their account is the guild member `webMember` in Discord.
  const member = await stack.signIn('member');
  const userId = stack.sql("SELECT id FROM users WHERE discord_id LIKE 'demo-%' AND site_role = 'member' ORDER BY id LIMIT 1")[0].id;
  stack.sql(`DELETE FROM event_registrations WHERE event_id = ${event} AND user_id = ${userId}`);
  stack.sql(`UPDATE users SET discord_id = '${webMember}' WHERE id = ${userId}`);
  assert.deepEqual(await guildRoles(webMember), []);

  const registered = await member.request(`${stack.base}/events/${event}/registration`, {
    method: 'POST', form: { role: 'driver', _csrf: member.csrf },
  });
  assert.equal(registered.status, 303, registered.text);
  await waitUntil(async () => (await guildRoles(webMember)).includes(ROLES.driver), 5000, 'the Discord role to be added');

  const withdrawn = await member.request(`${stack.base}/events/${event}/registration/delete`, {
    method: 'POST', form: { _csrf: member.csrf },
  });
  assert.equal(withdrawn.status, 303, withdrawn.text);
  await waitUntil(async () => !(await guildRoles(webMember)).includes(ROLES.driver), 5000, 'the Discord role to be removed');
  // Both changes went through Discord's REST API with an audit-log reason naming the event.
  const requests = await emulator.control('/requests');
  const roleCalls = requests.filter((r) => /\/members\/\d+\/roles\//.test(r.path ?? r.url ?? ''));
  assert.equal(roleCalls.length, 2, JSON.stringify(roleCalls.slice(0, 3)));
});

test('the discord-role-sync job reads the guild member list from Discord and applies it', async () => {
  const roles = () => JSON.parse(stack.sql(`SELECT discord_roles FROM users WHERE discord_id = '${syncedMember}'`)[0].discord_roles);
  assert.deepEqual(roles(), [], 'seeded without roles: only the job can bring them');
  const admin = await stack.signIn('admin');
  const run = await admin.request(`${stack.base}/admin/sync/jobs/discord-role-sync/run`, {
    method: 'POST', form: { _csrf: admin.csrf },
  });
  assert.equal(run.status, 303, run.text);
  await waitUntil(() => roles().includes(ROLES.driver), 10_000, 'the job to apply the guild roles');
  const last = () => stack.sql("SELECT status, upstream_calls FROM sync_runs WHERE job = 'discord-role-sync' ORDER BY id DESC LIMIT 1")[0];
  await waitUntil(() => last()?.status === 'ok', 10_000, 'the run to be recorded ok');
  assert.ok(last().upstream_calls >= 1, JSON.stringify(last()));
});
