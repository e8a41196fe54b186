// Fidelity check: the real discord.js 14 client against the emulator (reference §2.7). If discord.js
// logs in, caches the guild, answers interactions, sends DMs, resumes after a dropped connection and
// honours the rate-limit headers here, the emulator speaks the protocol the way discord.js expects.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';

import { Client, DiscordAPIError, Events, GatewayIntentBits } from 'discord.js';

import { startDiscordEmulator, DISCORD_FIXTURES } from './emulator.mjs';

const U = DISCORD_FIXTURES.users;
const R = DISCORD_FIXTURES.roles;

function waitFor(emitter, event, predicate = () => true, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { emitter.off(event, on); reject(new Error(`timed out waiting for ${event}`)); }, timeoutMs);
    function on(...args) {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args);
    }
    emitter.on(event, on);
  });
}

async function until(fn, timeoutMs = 5000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('discord.js 14 against the emulator', () => {
  let emu;
  let client;
  const control = async (method, p, body) => {
    const res = await fetch(`${emu.controlBase}${p}`, {
      method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    assert.equal(res.status, 200, `${method} ${p}: ${JSON.stringify(json)}`);
    return json;
  };

  before(async () => {
    emu = await startDiscordEmulator({ dmClosedUsers: [] });
    client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers, GatewayIntentBits.DirectMessages],
      rest: { api: emu.apiBase.replace(/\/v10$/, ''), version: '10' },
    });
    const ready = once(client, Events.ClientReady);
    await client.login(emu.botToken);
    await ready;
  });

  after(async () => {
    await client?.destroy();
    await emu?.close();
  });

  test('login: ready with the bot user, guild cached with roles, channels and members; only GET /gateway/bot on REST', async () => {
    assert.equal(client.user.id, emu.applicationId);
    assert.equal(client.user.bot, true);
    assert.equal(client.application.id, emu.applicationId);
    const guild = client.guilds.cache.get(emu.guildId);
    assert.ok(guild, 'guild cached');
    assert.equal(guild.available, true);
    for (const id of Object.values(R)) assert.ok(guild.roles.cache.has(id), `role ${id} cached`);
    assert.ok(guild.roles.everyone, '@everyone role');
    assert.ok(guild.channels.cache.some((c) => c.isTextBased()), 'a text channel');
    assert.ok(guild.members.cache.has(U.member1.id), 'members cached (GUILD_MEMBERS intent)');
    assert.deepEqual([...guild.members.cache.get(U.owner1.id).roles.cache.keys()].sort(),
      [...U.owner1.member.roles, emu.guildId].sort());
    assert.ok(guild.members.me, 'the bot is a member');
    const stats = await control('GET', '/stats');
    assert.deepEqual(Object.keys(stats.by_route), ['GET /gateway/bot'], JSON.stringify(stats.by_route));
    assert.equal(stats.identifies, 1);
  });

  test('interaction: deferReply(ephemeral) then editReply', async () => {
    const got = waitFor(client, Events.InteractionCreate, (i) => i.commandName === 'laps');
    const { id } = await control('POST', '/interactions', { user_id: U.member1.id, name: 'laps', options: { track: 'spa', limit: 3 } });
    const [interaction] = await got;
    assert.equal(interaction.id, id);
    assert.equal(interaction.user.id, U.member1.id);
    assert.equal(interaction.guildId, emu.guildId);
    assert.equal(interaction.options.getString('track'), 'spa');
    assert.equal(interaction.options.getInteger('limit'), 3);
    assert.ok(interaction.member.roles.cache.has(R.Member));
    await interaction.deferReply({ ephemeral: true });
    await interaction.editReply('3 laps at Spa');
    const view = await control('GET', `/interactions/${id}`);
    assert.equal(view.initial_response.type, 5);
    assert.equal(view.initial_response.data.flags, 64);
    assert.equal(view.original.content, '3 laps at Spa');
    assert.equal(view.original.ephemeral, true);
    assert.equal(view.original.loading, false);
    assert.ok(view.response_latency_ms < 3000);
  });

  test('interaction: reply() is a type 4 response; followUp() adds a message', async () => {
    const got = waitFor(client, Events.InteractionCreate, (i) => i.commandName === 'ping');
    const { id } = await control('POST', '/interactions', { user_id: U.owner1.id, name: 'ping' });
    const [interaction] = await got;
    await interaction.reply('pong');
    await interaction.followUp({ content: 'and more', flags: 64 });
    await assert.rejects(interaction.reply('again'), /already been sent or deferred/);
    const view = await control('GET', `/interactions/${id}`);
    assert.equal(view.initial_response.type, 4);
    assert.equal(view.initial_response.data.content, 'pong');
    assert.equal(view.original.content, 'pong');
    assert.equal(view.followups.length, 1);
    assert.equal(view.followups[0].content, 'and more');
    assert.equal(view.followups[0].ephemeral, true);
  });

  test('user.send() creates a DM; a DM to a closed user rejects with 50007', async () => {
    const user = await client.users.fetch(U.admin1.id);
    const msg = await user.send('hi');
    assert.equal(msg.content, 'hi');
    const dms = await control('GET', `/messages?recipient_id=${U.admin1.id}`);
    assert.equal(dms.length, 1);
    assert.equal(dms[0].content, 'hi');
    assert.equal(dms[0].author_id, emu.applicationId);
    assert.equal(dms[0].channel_id, msg.channelId);

    await control('POST', `/dm-closed/${U.member1.id}`, { closed: true });
    const before403 = (await control('GET', '/stats')).invalid_requests;
    await assert.rejects(client.users.send(U.member1.id, 'you have mail'), (err) => {
      assert.ok(err instanceof DiscordAPIError, String(err));
      assert.equal(err.code, 50007);
      assert.equal(err.status, 403);
      return true;
    });
    assert.equal((await control('GET', '/stats')).invalid_requests, before403 + 1);
    assert.equal((await control('GET', `/messages?recipient_id=${U.member1.id}`)).length, 0);
  });

  test('GUILD_MEMBER_UPDATE from the control API reaches guildMemberUpdate', async () => {
    const got = waitFor(client, Events.GuildMemberUpdate, (_old, m) => m.id === U.member1.id);
    await control('POST', `/members/${U.member1.id}/roles`, { roles: [R.Driver] });
    const [oldMember, newMember] = await got;
    assert.ok(oldMember.roles.cache.has(R.Member));
    assert.deepEqual([...newMember.roles.cache.keys()].sort(), [R.Driver, emu.guildId].sort());
  });

  test('member.roles.add() is a 204 and visible in the control state (and comes back as an update)', async () => {
    const guild = client.guilds.cache.get(emu.guildId);
    const member = await guild.members.fetch(U.admin1.id);
    const update = waitFor(client, Events.GuildMemberUpdate, (_o, m) => m.id === U.admin1.id && m.roles.cache.has(R.Driver));
    await member.roles.add(R.Driver, 'team sync');
    await update;
    const state = await control('GET', '/state');
    assert.ok(state.members.find((m) => m.id === U.admin1.id).roles.includes(R.Driver));
    assert.equal(state.audit_log.at(-1).reason, 'team sync');
    const reqs = await control('GET', '/requests?route=PUT%20/guilds/{guild_id}/members/{user_id}/roles/{role_id}');
    assert.equal(reqs.at(-1).status, 204);
  });

  test('after /control/drop discord.js resumes and still receives interactions', async () => {
    const resumed = waitFor(client, Events.ShardResume, () => true, 10000);
    const { dropped } = await control('POST', '/drop');
    assert.equal(dropped, 1);
    // Dispatched while the client is away: replayed on RESUME.
    await control('POST', `/members/${U.owner1.id}/roles`, { roles: [R.Owner] });
    await resumed;
    const stats = await control('GET', '/stats');
    assert.ok(stats.resumes >= 1);
    assert.equal(stats.identifies, 1, 'resumed, not re-identified');
    await until(() => client.guilds.cache.get(emu.guildId).members.cache.get(U.owner1.id).roles.cache.size === 2, 5000, 'replayed member update');
    const got = waitFor(client, Events.InteractionCreate, (i) => i.commandName === 'after-drop');
    const { id } = await control('POST', '/interactions', { user_id: U.owner1.id, name: 'after-drop' });
    const [interaction] = await got;
    await interaction.reply('still here');
    assert.equal((await control('GET', `/interactions/${id}`)).initial_response.type, 4);
  });

  test('op 7 reconnect: discord.js resumes', async () => {
    const resumed = waitFor(client, Events.ShardResume, () => true, 10000);
    await control('POST', '/reconnect');
    await resumed;
    const stats = await control('GET', '/stats');
    assert.ok(stats.resumes >= 2);
    assert.equal(stats.identifies, 1);
  });

  test('discord.js honours the per-route headers (no 429) and waits out a global 429', async () => {
    const channel = client.guilds.cache.get(emu.guildId).channels.cache.find((c) => c.isTextBased());
    const before429 = (await control('GET', '/stats')).rate_limited_429;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 7 }, (_, i) => channel.send(`burst ${i}`)));
    assert.ok(Date.now() - t0 >= 500, 'the 6th message had to wait for the 5/1 s bucket');
    assert.equal((await control('GET', '/stats')).rate_limited_429, before429, 'discord.js waited on X-RateLimit-Remaining');
    assert.equal((await control('GET', `/messages?channel_id=${channel.id}`)).filter((m) => m.content.startsWith('burst')).length, 7);

    await control('POST', '/limits', { globalPerSecond: 2 });
    try {
      const users = await Promise.all([U.owner1.id, U.admin1.id, U.member1.id, U.guest1.id].map((id) => client.users.fetch(id, { force: true })));
      assert.equal(users.length, 4);
      const stats = await control('GET', '/stats');
      assert.ok(stats.global_429 >= 1, 'the emulator answered a global 429');
    } finally {
      await control('POST', '/limits', { globalPerSecond: 50 });
    }
  });

  test('a message with a file goes as multipart/form-data (payload_json + file part)', async () => {
    const channel = client.guilds.cache.get(emu.guildId).channels.cache.find((c) => c.isTextBased());
    const msg = await channel.send({ content: 'lap table', files: [{ attachment: Buffer.from('lap,time\n1,138.4\n'), name: 'laps.csv' }] });
    assert.equal(msg.content, 'lap table');
    assert.equal(msg.attachments.first().name, 'laps.csv');
    const [rec] = (await control('GET', `/messages?channel_id=${channel.id}`)).filter((m) => m.content === 'lap table');
    assert.deepEqual(rec.attachments, [{ filename: 'laps.csv', size: 17 }]);
  });

  test('application commands: PUT overwrite and GET', async () => {
    const cmds = await client.application.commands.set([
      { name: 'laps', description: 'Recent laps', options: [{ type: 3, name: 'track', description: 'Track' }] },
      { name: 'ping', description: 'Ping' },
    ], emu.guildId);
    assert.equal(cmds.size, 2);
    const fetched = await client.application.commands.fetch({ guildId: emu.guildId });
    assert.deepEqual([...fetched.values()].map((c) => c.name).sort(), ['laps', 'ping']);
    await assert.rejects(client.application.commands.set([{ name: 'Bad Name', description: 'x' }], emu.guildId),
      (err) => err instanceof DiscordAPIError && err.code === 50035);
  });
});
