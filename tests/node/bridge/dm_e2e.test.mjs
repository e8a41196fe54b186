// The DM queue end to end (web -> KV -> bridge -> bot -> Discord): 1,000 DMs queued through the admin
// API reach the Discord emulator exactly once each, while the bot is killed with SIGKILL and started
// again, and the server is stopped and started again, mid-stream. Nothing is lost (every member gets
// their DM) and nothing is doubled (no member gets two): docs/bridge.md, "The DM queue and
// exactly-once delivery".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Stack, memberIds, startEmulator, waitUntil } from './stack.mjs';

const COUNT = 1000;
let emulator;
let stack;

async function dmsReceived() {
  const messages = await emulator.control('/messages');
  return messages.filter((m) => m.recipient_id);
}

before(async () => {
  const ids = memberIds(COUNT);
  emulator = await startEmulator({
    members: ids.map((id, i) => ({ id, username: `member${i + 1}`, roles: [] })),
    globalPerSecond: 400,
    routeLimits: { 'POST /users/@me/channels': { limit: 1000, windowMs: 1000 } },
  });
  stack = new Stack(emulator, { extraEnv: { PITWALL_DISCORD_RATE_LIMIT: '400', PITWALL_DM_IN_FLIGHT_MAX: '64' } });
  await stack.startServer();
  stack.userIds = stack.seedMembers(ids);
  await stack.startBot();
});

after(async () => {
  await stack?.stop();
  await emulator?.close();
});

test('1,000 DMs arrive exactly once each while the bot is SIGKILLed and the server restarts', { timeout: 180_000 }, async () => {
  const admin = await stack.signIn('admin');
  const userIds = [...stack.userIds.values()];
  assert.equal(userIds.length, COUNT);

  // Queued from the web side: the admin API answers once every message is durable.
  const queued = await stack.api(admin, '/api/admin/dm/messages', {
    body: { text: 'Stint briefing tonight at 20:00', user_ids: userIds },
  });
  assert.equal(queued.status, 202, queued.text);
  assert.equal(queued.json.queued, COUNT);
  assert.equal(stack.sql("SELECT COUNT(*) AS n FROM dm_messages")[0].n, COUNT);

  // Mid-stream: the bot dies without warning at ~30 %, and comes back.
  await waitUntil(async () => (await dmsReceived()).length >= 300, 60_000, '300 DMs');
  await stack.killBot('SIGKILL');
  const atKill = (await dmsReceived()).length;
  await stack.startBot();

  // The server stops (SIGTERM) at ~60 % and starts again on the same data.
  await waitUntil(async () => (await dmsReceived()).length >= Math.max(600, atKill + 100), 60_000, '600 DMs');
  await stack.stopServer('SIGTERM');
  const atRestart = (await dmsReceived()).length;
  await stack.startServer();

  await waitUntil(
    () => stack.sql("SELECT COUNT(*) AS n FROM dm_messages WHERE status = 'delivered'")[0].n === COUNT,
    120_000, 'every DM delivered', 250);

  const received = await dmsReceived();
  const perRecipient = new Map();
  for (const m of received) perRecipient.set(m.recipient_id, (perRecipient.get(m.recipient_id) ?? 0) + 1);
  const doubled = [...perRecipient].filter(([, n]) => n > 1);
  assert.deepEqual(doubled, [], 'no member received the same DM twice');
  assert.equal(perRecipient.size, COUNT, 'every member received their DM');
  assert.equal(received.length, COUNT);
  assert.ok(received.every((m) => m.content.includes('Stint briefing tonight at 20:00')));
  // Every DM carries its queue id as the nonce; the ids Discord saw are exactly the ids queued.
  const nonces = new Set(received.map((m) => m.nonce));
  const queuedIds = new Set(stack.sql('SELECT id FROM dm_messages').map((r) => r.id));
  assert.deepEqual([...nonces].sort(), [...queuedIds].sort());

  const stats = await emulator.control('/stats');
  const attempts = stack.sql('SELECT SUM(attempts) AS n FROM dm_messages')[0].n;
  console.log(`dm e2e: ${COUNT} delivered once each; bot killed at ${atKill}, server restarted at ${atRestart}; ` +
              `${attempts} attempts in all; emulator requests ${stats.requests}, 429s ${stats.rate_limited_429}`);
  assert.ok(attempts >= COUNT);
});
