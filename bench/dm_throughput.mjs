// DM throughput through the whole path (admin API -> SQL + KV queue -> bridge -> pitwall-bot ->
// Discord emulator) against the emulator's configured rate limits, and the bot's peak memory.
//
//   node bench/dm_throughput.mjs        (binaries from BENCH_BIN_DIR or build/bin)
//
// The emulator plays Discord with its documented global limit of 50 requests per second per bot.
// 1,000 DMs go to 100 members, 10 each, queued round-robin (one admin message per round): the first
// DM to a member opens the DM channel (one more request), the rest reuse it. The ceiling is what
// the global limit allows for those requests: 1,000 DMs / (1,100 requests / 50 per s) = 45.5 DM/s.
// Ends with: dm_per_s=... ceiling_per_s=... ratio=... bot_rss_mb=...
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.PITWALL_TEST_BIN_DIR ??= path.resolve(repo, process.env.BENCH_BIN_DIR ?? 'build/bin');
const { Stack, memberIds, startEmulator, waitUntil } = await import('../tests/node/bridge/stack.mjs');

const MEMBERS = 100;
const PER_MEMBER = 10;
const GLOBAL_PER_S = 50;
const TOTAL = MEMBERS * PER_MEMBER;

function peakRssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

const ids = memberIds(MEMBERS);
const emulator = await startEmulator({
  members: ids.map((id, i) => ({ id, username: `driver${i + 1}`, roles: [] })),
  globalPerSecond: GLOBAL_PER_S,
  routeLimits: {
    'POST /channels/{channel_id}/messages': { limit: 5, windowMs: 1000 },
    'POST /users/@me/channels': { limit: GLOBAL_PER_S, windowMs: 1000 },
  },
});
const stack = new Stack(emulator, {
  extraEnv: { PITWALL_DISCORD_RATE_LIMIT: String(GLOBAL_PER_S), PITWALL_DM_VISIBILITY_S: '60', PITWALL_BRIDGE_HEARTBEAT_S: '5' },
});
try {
  await stack.startServer();
  const userIds = [...stack.seedMembers(ids).values()];
  await stack.startBot();
  const admin = await stack.signIn('admin');

  const started = Date.now();
  for (let round = 0; round < PER_MEMBER; round++) {
    const res = await stack.api(admin, '/api/admin/dm/messages', {
      body: { text: `Briefing ${round + 1} of ${PER_MEMBER}`, user_ids: userIds },
    });
    if (res.status !== 202) throw new Error(`queueing failed: ${res.status} ${res.text}`);
  }
  const queuedMs = Date.now() - started;
  await waitUntil(() => stack.sql("SELECT COUNT(*) AS n FROM dm_messages WHERE status = 'delivered'")[0].n === TOTAL,
                  180_000, 'every DM delivered', 100);
  const seconds = (Date.now() - started) / 1000;
  const rss = peakRssMb(stack.bot.pid);

  const stats = await emulator.control('/stats');
  const messages = (await emulator.control('/messages')).filter((m) => m.recipient_id);
  const requests = MEMBERS + TOTAL;  // one DM channel per member + one message per DM
  const ceiling = TOTAL / (requests / GLOBAL_PER_S);
  const rate = TOTAL / seconds;
  console.log(`queued ${TOTAL} DMs in ${queuedMs} ms; delivered in ${seconds.toFixed(2)} s; ` +
              `emulator saw ${messages.length} DMs, ${stats.requests} requests, ${stats.rate_limited_429} 429s`);
  console.log(`dm_per_s=${rate.toFixed(1)} ceiling_per_s=${ceiling.toFixed(1)} ratio=${(rate / ceiling).toFixed(3)} ` +
              `bot_rss_mb=${rss.toFixed(1)}`);
} finally {
  await stack.stop();
  await emulator.close();
}
