// Protocol-level checks of the Discord emulator with plain `ws` and fetch: gateway close codes,
// heartbeats, resume, REST rate limits, nonces and the interaction rules (reference Part 2).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';

import { startDiscordEmulator, DISCORD_FIXTURES, Intents } from './emulator.mjs';
import { waitForLine } from '../flows/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const U = DISCORD_FIXTURES.users;
const R = DISCORD_FIXTURES.roles;

const running = [];
async function emulator(options = {}) {
  const emu = await startDiscordEmulator(options);
  running.push(emu);
  return emu;
}
after(async () => { await Promise.all(running.map((e) => e.close())); });

// A raw gateway client: buffers every payload, lets the test wait for one or for the close.
class Gw {
  static open(url, query = '?v=10&encoding=json') {
    const gw = new Gw(new WebSocket(`${url}${query}`));
    return new Promise((resolve, reject) => {
      gw.ws.once('open', () => resolve(gw));
      gw.ws.once('error', reject);
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.inbox = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const p = JSON.parse(data.toString());
      this.inbox.push(p);
      for (const w of [...this.waiters]) w();
    });
  }

  send(p) { this.ws.send(typeof p === 'string' ? p : JSON.stringify(p)); }

  next(pred, timeoutMs = 3000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.inbox.findIndex(pred);
        if (i === -1) return false;
        const [p] = this.inbox.splice(i, 1);
        this.waiters = this.waiters.filter((w) => w !== check);
        clearTimeout(timer);
        resolve(p);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`no matching payload; inbox: ${JSON.stringify(this.inbox).slice(0, 500)}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  op(op, timeoutMs) { return this.next((p) => p.op === op, timeoutMs); }

  event(t, timeoutMs) { return this.next((p) => p.op === 0 && p.t === t, timeoutMs); }

  identify(token, intents = Intents.GUILDS | Intents.GUILD_MEMBERS | Intents.DIRECT_MESSAGES, extra = {}) {
    this.send({ op: 2, d: { token, intents, properties: { os: 'linux', browser: 'test', device: 'test' }, ...extra } });
  }

  close(code = 1000) { this.ws.close(code); return this.closed; }
}

async function closeCode(gw, timeoutMs = 3000) {
  const t = new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), timeoutMs));
  return (await Promise.race([gw.closed, t])).code;
}

function api(emu, method, p, { body, token = emu.botToken, headers = {}, raw } = {}) {
  const h = { 'User-Agent': 'DiscordBot (https://pitwall.test, 1.0)', ...headers };
  if (token) h.Authorization = `Bot ${token}`;
  if (body !== undefined || raw !== undefined) h['Content-Type'] = 'application/json';
  return fetch(`${emu.apiBase}${p}`, { method, headers: h, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) })
    .then(async (res) => ({ status: res.status, headers: res.headers, body: res.status === 204 ? null : await res.json() }));
}

async function control(emu, method, p, body) {
  const res = await fetch(`${emu.controlBase}${p}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}

async function readySession(emu, intents) {
  const gw = await Gw.open(emu.gatewayUrl);
  const hello = await gw.op(10);
  gw.identify(emu.botToken, intents);
  const ready = await gw.event('READY');
  return { gw, hello, ready };
}

describe('gateway', () => {
  test('HELLO, heartbeat ACK, READY (s=1, resume URL, shard, application) then GUILD_CREATE', async () => {
    const emu = await emulator({ heartbeatIntervalMs: 5000 });
    const gw = await Gw.open(emu.gatewayUrl);
    const hello = await gw.op(10);
    assert.equal(hello.d.heartbeat_interval, 5000);
    assert.equal(hello.s, null);
    gw.send({ op: 1, d: null });
    await gw.op(11);
    gw.identify(emu.botToken, Intents.GUILDS | Intents.GUILD_MEMBERS, { shard: [0, 1] });
    const ready = await gw.event('READY');
    assert.equal(ready.s, 1);
    assert.equal(ready.d.v, 10);
    assert.equal(ready.d.user.id, emu.applicationId);
    assert.equal(ready.d.user.bot, true);
    assert.deepEqual(ready.d.guilds, [{ id: emu.guildId, unavailable: true }]);
    assert.equal(ready.d.resume_gateway_url, emu.gatewayUrl);
    assert.deepEqual(ready.d.shard, [0, 1]);
    assert.equal(ready.d.application.id, emu.applicationId);
    assert.match(ready.d.session_id, /^[0-9a-f]{32}$/);
    const gc = await gw.event('GUILD_CREATE');
    assert.equal(gc.s, 2);
    assert.equal(gc.d.id, emu.guildId);
    assert.ok(gc.d.roles.some((r) => r.id === R.Driver));
    assert.ok(gc.d.members.some((m) => m.user.id === U.member1.id), 'members with GUILD_MEMBERS');
    assert.ok(gc.d.channels.some((c) => c.type === 0));
    gw.send({ op: 1, d: 2 });
    await gw.op(11);
    await gw.close();
  });

  test('without GUILD_MEMBERS, GUILD_CREATE carries only the bot member', async () => {
    const emu = await emulator();
    const { gw } = await readySession(emu, Intents.GUILDS);
    const gc = await gw.event('GUILD_CREATE');
    assert.deepEqual(gc.d.members.map((m) => m.user.id), [emu.applicationId]);
    await gw.close();
  });

  test('close codes: 4004 bad token, 4014 disallowed intent, 4013 invalid intent, 4003 before identify, 4002 oversize/garbage, 4005 double identify, 4001 unknown op, 4012 bad version, 4010 bad shard', async () => {
    const emu = await emulator({ allowedIntents: Intents.MESSAGE_CONTENT }); // GUILD_MEMBERS not enabled
    const run = async (query, fn) => {
      const gw = await Gw.open(emu.gatewayUrl, query);
      if (query === '?v=10&encoding=json') await gw.op(10);
      await fn(gw);
      return closeCode(gw);
    };
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.identify('bm9wZQ.bad.token')), 4004);
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.identify(emu.botToken, Intents.GUILDS | Intents.GUILD_MEMBERS)), 4014);
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.identify(emu.botToken, 1 << 30)), 4013);
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.send({ op: 3, d: { since: null, activities: [], status: 'online', afk: false } })), 4003);
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.send({ op: 1, d: null, pad: 'x'.repeat(5000) })), 4002);
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.send('{not json')), 4002);
    assert.equal(await run('?v=10&encoding=json', async (gw) => {
      gw.identify(emu.botToken, Intents.GUILDS);
      await gw.event('READY');
      gw.identify(emu.botToken, Intents.GUILDS);
    }), 4005);
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.send({ op: 42, d: null })), 4001);
    assert.equal(await run('?v=10&encoding=json', (gw) => gw.identify(emu.botToken, Intents.GUILDS, { shard: [1, 1] })), 4010);
    assert.equal(await run('?v=9&encoding=json', () => {}), 4012);
    assert.equal(await run('?v=10&encoding=etf', () => {}), 4002);
    const stats = await control(emu, 'GET', '/stats');
    assert.equal(stats.gateway_closes['4004'], 1);
  });

  test('more than the send limit per window closes with 4008', async () => {
    const emu = await emulator({ gatewaySendLimit: { count: 5, windowMs: 60000 } });
    const gw = await Gw.open(emu.gatewayUrl);
    await gw.op(10);
    for (let i = 0; i < 6; i += 1) gw.send({ op: 1, d: null });
    assert.equal(await closeCode(gw), 4008);
  });

  test('missed heartbeats close the connection (4009) and the session is gone; op 1 from the server asks for one now', async () => {
    const emu = await emulator({ heartbeatIntervalMs: 150, heartbeatRequestTimeoutMs: 300 });
    const { gw, ready } = await readySession(emu, Intents.GUILDS);
    const t0 = Date.now();
    assert.equal(await closeCode(gw), 4009);
    assert.ok(Date.now() - t0 < 1000);
    const gw2 = await Gw.open(emu.gatewayUrl);
    await gw2.op(10);
    gw2.send({ op: 6, d: { token: emu.botToken, session_id: ready.d.session_id, seq: 1 } });
    assert.equal((await gw2.op(9)).d, false);
    await gw2.close();

    // A client that answers op 1 keeps its connection.
    const emu2 = await emulator({ heartbeatIntervalMs: 60000, heartbeatRequestTimeoutMs: 200 });
    const a = await readySession(emu2, Intents.GUILDS);
    a.gw.ws.on('message', (d) => { if (JSON.parse(d.toString()).op === 1) a.gw.send({ op: 1, d: 2 }); });
    await control(emu2, 'POST', '/request-heartbeat');
    await a.gw.op(1);
    await a.gw.op(11);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.gw.ws.readyState, WebSocket.OPEN);
    // One that ignores it is closed.
    const b = await readySession(emu2, Intents.GUILDS);
    await control(emu2, 'POST', '/request-heartbeat');
    assert.equal(await closeCode(b.gw), 4009);
    await a.gw.close();
  });

  test('resume replays the dispatches missed after seq, then RESUMED; a 1000 close invalidates the session', async () => {
    const emu = await emulator();
    const { gw, ready } = await readySession(emu);
    const gc = await gw.event('GUILD_CREATE');
    const sessionId = ready.d.session_id;
    await gw.close(4000); // a non-1000/1001 close keeps the session
    const { id } = await control(emu, 'POST', '/interactions', { user_id: U.member1.id, name: 'laps' });
    await control(emu, 'POST', `/members/${U.member1.id}/roles`, { roles: [R.Driver] });

    const gw2 = await Gw.open(ready.d.resume_gateway_url);
    await gw2.op(10);
    gw2.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: gc.s } });
    const ic = await gw2.event('INTERACTION_CREATE');
    assert.equal(ic.s, gc.s + 1);
    assert.equal(ic.d.id, id);
    assert.equal(ic.d.type, 2);
    assert.equal(ic.d.data.name, 'laps');
    assert.equal(ic.d.member.user.id, U.member1.id);
    assert.ok(ic.d.token);
    const mu = await gw2.event('GUILD_MEMBER_UPDATE');
    assert.equal(mu.s, gc.s + 2);
    assert.deepEqual(mu.d.roles, [R.Driver]);
    const resumed = await gw2.event('RESUMED');
    assert.equal(resumed.s, gc.s + 3);
    assert.equal(gw2.inbox.filter((p) => p.op === 0).length, 0, 'nothing else replayed');
    assert.equal((await control(emu, 'GET', '/stats')).resumes, 1);

    await gw2.close(1000);
    const gw3 = await Gw.open(emu.gatewayUrl);
    await gw3.op(10);
    gw3.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: resumed.s } });
    assert.equal((await gw3.op(9)).d, false);
    // The connection stays usable for a fresh identify.
    gw3.identify(emu.botToken, Intents.GUILDS);
    assert.notEqual((await gw3.event('READY')).d.session_id, sessionId);
    await gw3.close();
  });

  test('resume: unknown session → op 9 false; seq ahead of the session → 4007; after the resume window → op 9 false', async () => {
    const emu = await emulator({ resumeWindowMs: 200 });
    const gw = await Gw.open(emu.gatewayUrl);
    await gw.op(10);
    gw.send({ op: 6, d: { token: emu.botToken, session_id: 'f'.repeat(32), seq: 3 } });
    assert.equal((await gw.op(9)).d, false);
    await gw.close();

    const a = await readySession(emu, Intents.GUILDS);
    await a.gw.close(4000);
    const b = await Gw.open(emu.gatewayUrl);
    await b.op(10);
    b.send({ op: 6, d: { token: emu.botToken, session_id: a.ready.d.session_id, seq: 99 } });
    assert.equal(await closeCode(b), 4007);

    await new Promise((r) => setTimeout(r, 300));
    const c = await Gw.open(emu.gatewayUrl);
    await c.op(10);
    c.send({ op: 6, d: { token: emu.botToken, session_id: a.ready.d.session_id, seq: 1 } });
    assert.equal((await c.op(9)).d, false);
    await c.close();
  });

  test('control: drop (no close frame), reconnect (op 7) and invalid-session', async () => {
    const emu = await emulator();
    const a = await readySession(emu, Intents.GUILDS);
    await control(emu, 'POST', '/reconnect');
    assert.equal((await a.gw.op(7)).d, null);
    await control(emu, 'POST', '/invalid-session', { resumable: true });
    assert.equal((await a.gw.op(9)).d, true);
    // discord.js resumes on the same socket after op 9 true.
    a.gw.send({ op: 6, d: { token: emu.botToken, session_id: a.ready.d.session_id, seq: 2 } });
    await a.gw.event('RESUMED');
    const { dropped } = await control(emu, 'POST', '/drop');
    assert.equal(dropped, 1);
    assert.equal(await closeCode(a.gw), 1006);
  });
});

describe('REST', () => {
  test('auth, discovery, unknown routes, 405, invalid JSON, validation errors', async () => {
    const emu = await emulator();
    let r = await api(emu, 'GET', '/users/@me', { token: null });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { message: '401: Unauthorized', code: 0 });
    r = await api(emu, 'GET', '/gateway', { token: null });
    assert.deepEqual(r.body, { url: emu.gatewayUrl });
    r = await api(emu, 'GET', '/gateway/bot');
    assert.equal(r.body.url, emu.gatewayUrl);
    assert.equal(r.body.shards, 1);
    assert.deepEqual(Object.keys(r.body.session_start_limit).sort(), ['max_concurrency', 'remaining', 'reset_after', 'total']);
    r = await api(emu, 'GET', '/users/@me');
    assert.equal(r.body.id, emu.applicationId);
    r = await api(emu, 'GET', '/no/such/route');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { message: '404: Not Found', code: 0 });
    r = await api(emu, 'DELETE', '/users/@me');
    assert.equal(r.status, 405);
    const ch = DISCORD_FIXTURES.guild_id && (await control(emu, 'GET', '/state')).channels[0].id;
    r = await api(emu, 'POST', `/channels/${ch}/messages`, { raw: '{"content":' });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 50109);
    r = await api(emu, 'POST', `/channels/${ch}/messages`, { body: { content: 'x'.repeat(2001) } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 50035);
    assert.equal(r.body.errors.content._errors[0].code, 'BASE_TYPE_MAX_LENGTH');
    r = await api(emu, 'POST', `/channels/${ch}/messages`, { body: { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) } });
    assert.equal(r.body.code, 50035);
    assert.ok(r.body.errors.embeds);
    r = await api(emu, 'POST', `/channels/${ch}/messages`, { body: { content: '' } });
    assert.equal(r.body.code, 50006);
    r = await api(emu, 'POST', '/channels/123456789012345678/messages', { body: { content: 'x' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 10003);
    assert.equal((await control(emu, 'GET', '/stats')).invalid_requests, 1);
  });

  test('rate limits: headers on every answer, a bucket 429 and a global 429', async () => {
    const emu = await emulator({
      globalPerSecond: 8,
      routeLimits: { 'POST /channels/{channel_id}/messages': { limit: 2, windowMs: 1000 } },
    });
    const ch = (await control(emu, 'GET', '/state')).channels[0].id;
    const r1 = await api(emu, 'POST', `/channels/${ch}/messages`, { body: { content: 'a' } });
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('x-ratelimit-limit'), '2');
    assert.equal(r1.headers.get('x-ratelimit-remaining'), '1');
    assert.match(r1.headers.get('x-ratelimit-reset'), /^\d{10}\.\d{3}$/);
    assert.match(r1.headers.get('x-ratelimit-reset-after'), /^\d+\.\d{3}$/);
    assert.match(r1.headers.get('x-ratelimit-bucket'), /^[0-9a-f]{32}$/);
    const r2 = await api(emu, 'POST', `/channels/${ch}/messages`, { body: { content: 'b' } });
    assert.equal(r2.headers.get('x-ratelimit-remaining'), '0');
    const r3 = await api(emu, 'POST', `/channels/${ch}/messages`, { body: { content: 'c' } });
    assert.equal(r3.status, 429);
    assert.equal(r3.body.message, 'You are being rate limited.');
    assert.equal(r3.body.global, false);
    assert.ok(r3.body.retry_after > 0 && r3.body.retry_after <= 1);
    assert.equal(r3.headers.get('retry-after'), '1');
    assert.equal(r3.headers.get('x-ratelimit-scope'), 'user');
    assert.equal(r3.headers.get('x-ratelimit-global'), null);
    // A different route has its own bucket (and hash).
    const other = await api(emu, 'GET', `/channels/${ch}/messages?limit=5`);
    assert.equal(other.status, 200);
    assert.notEqual(other.headers.get('x-ratelimit-bucket'), r1.headers.get('x-ratelimit-bucket'));
    assert.equal(other.body.length, 2);
    // Exhaust the global limit (8/s; 4 used so far, in the same second unless the clock just rolled).
    let global429;
    for (let i = 0; i < 12 && !global429; i += 1) {
      const r = await api(emu, 'GET', '/users/@me');
      if (r.status === 429) global429 = r;
    }
    assert.ok(global429, 'a global 429');
    assert.equal(global429.body.global, true);
    assert.equal(global429.headers.get('x-ratelimit-global'), 'true');
    assert.equal(global429.headers.get('x-ratelimit-scope'), 'global');
    assert.ok(global429.headers.get('retry-after'));
    // Interaction callbacks are not subject to the global limit.
    const { id, token } = await control(emu, 'POST', '/interactions', { user_id: U.member1.id, name: 'x' });
    const cb = await api(emu, 'POST', `/interactions/${id}/${token}/callback`, { token: null, body: { type: 4, data: { content: 'ok' } } });
    assert.equal(cb.status, 204);
    const stats = await control(emu, 'GET', '/stats');
    assert.ok(stats.rate_limited_429 >= 2);
    assert.ok(stats.global_429 >= 1);
    assert.ok(stats.invalid_requests >= 2);
    // Runtime change of limits.
    await control(emu, 'POST', '/limits', { globalPerSecond: 1000 });
    assert.equal((await api(emu, 'GET', '/users/@me')).status, 200);
  });

  test('DMs: same channel per user, enforce_nonce returns the first message and creates no second, 50007 and 50278', async () => {
    const emu = await emulator({ dmClosedUsers: [U.owner1.id] });
    const dm1 = await api(emu, 'POST', '/users/@me/channels', { body: { recipient_id: U.member1.id } });
    assert.equal(dm1.status, 200);
    assert.equal(dm1.body.type, 1);
    assert.equal(dm1.body.recipients[0].id, U.member1.id);
    const dm1b = await api(emu, 'POST', '/users/@me/channels', { body: { recipient_id: U.member1.id } });
    assert.equal(dm1b.body.id, dm1.body.id);
    const body = { content: 'Your lap at Spa: 2:18.4', nonce: 'pw-notify-42', enforce_nonce: true };
    const m1 = await api(emu, 'POST', `/channels/${dm1.body.id}/messages`, { body });
    assert.equal(m1.status, 200);
    assert.equal(m1.body.nonce, 'pw-notify-42');
    const m2 = await api(emu, 'POST', `/channels/${dm1.body.id}/messages`, { body });
    assert.equal(m2.status, 200);
    assert.equal(m2.body.id, m1.body.id);
    let msgs = await control(emu, 'GET', `/messages?recipient_id=${U.member1.id}`);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].nonce, 'pw-notify-42');
    // Without enforce_nonce the nonce does not deduplicate.
    await api(emu, 'POST', `/channels/${dm1.body.id}/messages`, { body: { content: 'again', nonce: 'pw-notify-42' } });
    msgs = await control(emu, 'GET', `/messages?recipient_id=${U.member1.id}`);
    assert.equal(msgs.length, 2);

    const dmClosed = await api(emu, 'POST', '/users/@me/channels', { body: { recipient_id: U.owner1.id } });
    const closed = await api(emu, 'POST', `/channels/${dmClosed.body.id}/messages`, { body: { content: 'x' } });
    assert.equal(closed.status, 403);
    assert.deepEqual(closed.body, { message: 'Cannot send messages to this user', code: 50007 });
    await control(emu, 'POST', `/dm-closed/${U.owner1.id}`, { closed: false });
    assert.equal((await api(emu, 'POST', `/channels/${dmClosed.body.id}/messages`, { body: { content: 'x' } })).status, 200);

    const guestDm = await api(emu, 'POST', '/users/@me/channels', { body: { recipient_id: U.guest1.id } });
    const guest = await api(emu, 'POST', `/channels/${guestDm.body.id}/messages`, { body: { content: 'x' } });
    assert.equal(guest.status, 403);
    assert.equal(guest.body.code, 50278);
    assert.equal((await api(emu, 'POST', '/users/@me/channels', { body: { recipient_id: '999999999999999999' } })).body.code, 10013);

    const edited = await api(emu, 'PATCH', `/channels/${dm1.body.id}/messages/${m1.body.id}`, { body: { content: 'Your lap at Spa: 2:18.3' } });
    assert.equal(edited.body.content, 'Your lap at Spa: 2:18.3');
    assert.ok(edited.body.edited_timestamp);
    const list = await api(emu, 'GET', `/channels/${dm1.body.id}/messages?limit=1`);
    assert.equal(list.body.length, 1);
  });

  test('members: get, paging, role add/remove (204, GUILD_MEMBER_UPDATE), hierarchy (50013), roles list', async () => {
    const emu = await emulator({ botRolePosition: 3 }); // below Owner (4): may not assign Owner
    const { gw } = await readySession(emu);
    const g = emu.guildId;
    const m = await api(emu, 'GET', `/guilds/${g}/members/${U.member1.id}`);
    assert.equal(m.body.user.id, U.member1.id);
    assert.deepEqual(m.body.roles, U.member1.member.roles);
    assert.equal((await api(emu, 'GET', `/guilds/${g}/members/${U.guest1.id}`)).body.code, 10007);
    const page1 = await api(emu, 'GET', `/guilds/${g}/members?limit=2`);
    assert.equal(page1.body.length, 2);
    const page2 = await api(emu, 'GET', `/guilds/${g}/members?limit=1000&after=${page1.body[1].user.id}`);
    assert.equal(page1.body.length + page2.body.length, 4); // 3 fixture members + the bot
    assert.ok(page2.body.every((x) => BigInt(x.user.id) > BigInt(page1.body[1].user.id)));
    const roles = await api(emu, 'GET', `/guilds/${g}/roles`);
    assert.ok(roles.body.some((r) => r.id === g && r.name === '@everyone'));

    const add = await api(emu, 'PUT', `/guilds/${g}/members/${U.guest1.id}/roles/${R.Driver}`);
    assert.equal(add.body.code, 10007);
    const put = await api(emu, 'PUT', `/guilds/${g}/members/${U.admin1.id}/roles/${R.Driver}`, { headers: { 'X-Audit-Log-Reason': 'sync' } });
    assert.equal(put.status, 204);
    assert.equal(put.headers.get('x-ratelimit-limit'), '10');
    const upd = await gw.event('GUILD_MEMBER_UPDATE');
    assert.equal(upd.d.guild_id, g);
    assert.equal(upd.d.user.id, U.admin1.id);
    assert.deepEqual(upd.d.roles.sort(), [R.Admin, R.Driver].sort());
    const del = await api(emu, 'DELETE', `/guilds/${g}/members/${U.admin1.id}/roles/${R.Driver}`);
    assert.equal(del.status, 204);
    assert.equal(del.headers.get('x-ratelimit-bucket'), put.headers.get('x-ratelimit-bucket'), 'PUT and DELETE share a bucket');
    assert.deepEqual((await gw.event('GUILD_MEMBER_UPDATE')).d.roles, [R.Admin]);
    assert.equal((await api(emu, 'PUT', `/guilds/${g}/members/${U.admin1.id}/roles/${R.Owner}`)).body.code, 50013);
    assert.equal((await api(emu, 'PUT', `/guilds/${g}/members/${U.admin1.id}/roles/123456789012345678`)).body.code, 10011);
    await gw.close();
  });

  test('commands: PUT overwrites and keeps ids by name; GET lists', async () => {
    const emu = await emulator();
    const p = `/applications/${emu.applicationId}/guilds/${emu.guildId}/commands`;
    const a = await api(emu, 'PUT', p, { body: [{ name: 'laps', description: 'Laps' }, { name: 'link', description: 'Link' }] });
    assert.equal(a.status, 200);
    assert.equal(a.body.length, 2);
    assert.ok(a.body.every((c) => /^\d{17,20}$/.test(c.id) && c.guild_id === emu.guildId && c.type === 1));
    const b = await api(emu, 'PUT', p, { body: [{ name: 'laps', description: 'Recent laps' }] });
    assert.equal(b.body.length, 1);
    assert.equal(b.body[0].id, a.body.find((c) => c.name === 'laps').id);
    assert.deepEqual((await api(emu, 'GET', p)).body.map((c) => c.name), ['laps']);
    const bad = await api(emu, 'PUT', p, { body: [{ name: 'Laps!', description: '' }] });
    assert.equal(bad.body.code, 50035);
    assert.ok(bad.body.errors[0].name && bad.body.errors[0].description);
  });
});

describe('interactions', () => {
  test('defer, edit @original, follow-ups, 40060 on a second acknowledge, with_response', async () => {
    const emu = await emulator();
    const { id, token } = await control(emu, 'POST', '/interactions', { user_id: U.member1.id, name: 'laps', options: { track: 'spa' }, locale: 'de' });
    const cb = `/interactions/${id}/${token}/callback`;
    const r1 = await api(emu, 'POST', `${cb}?with_response=true`, { token: null, body: { type: 5, data: { flags: 64 } } });
    assert.equal(r1.status, 200);
    assert.equal(r1.body.interaction.id, id);
    assert.equal(r1.body.interaction.response_message_loading, true);
    assert.equal(r1.body.interaction.response_message_ephemeral, true);
    assert.equal(r1.body.resource.type, 5);
    const r2 = await api(emu, 'POST', cb, { token: null, body: { type: 4, data: { content: 'late' } } });
    assert.equal(r2.status, 400);
    assert.equal(r2.body.code, 40060);
    const wh = `/webhooks/${emu.applicationId}/${token}`;
    const edit = await api(emu, 'PATCH', `${wh}/messages/@original`, { token: null, body: { content: 'Spa: 2:18.4' } });
    assert.equal(edit.status, 200);
    assert.equal(edit.body.content, 'Spa: 2:18.4');
    assert.equal(edit.body.flags & 128, 0, 'no longer loading');
    assert.equal(edit.body.flags & 64, 64);
    assert.equal((await api(emu, 'GET', `${wh}/messages/@original`, { token: null })).body.content, 'Spa: 2:18.4');
    const fu = await api(emu, 'POST', `${wh}?wait=true`, { token: null, body: { content: 'more' } });
    assert.equal(fu.status, 200);
    const view = await control(emu, 'GET', `/interactions/${id}`);
    assert.deepEqual(view.initial_response, { type: 5, data: { flags: 64 } });
    assert.equal(view.original.content, 'Spa: 2:18.4');
    assert.equal(view.followups.length, 1);
    assert.equal(view.followups[0].content, 'more');
    assert.ok(view.responded_at_ms >= view.created_at_ms);
    assert.equal((await api(emu, 'DELETE', `${wh}/messages/${fu.body.id}`, { token: null })).status, 204);
    assert.equal((await api(emu, 'GET', `${wh}/messages/${fu.body.id}`, { token: null })).body.code, 10008);
    assert.equal((await api(emu, 'POST', `/webhooks/${emu.applicationId}/not-a-token`, { token: null, body: { content: 'x' } })).body.code, 10015);
  });

  test('the first follow-up after a defer fills the loading message', async () => {
    const emu = await emulator();
    const { id, token } = await control(emu, 'POST', '/interactions', { user_id: U.member1.id, name: 'laps' });
    await api(emu, 'POST', `/interactions/${id}/${token}/callback`, { token: null, body: { type: 5 } });
    const fu = await api(emu, 'POST', `/webhooks/${emu.applicationId}/${token}`, { token: null, body: { content: 'done' } });
    const view = await control(emu, 'GET', `/interactions/${id}`);
    assert.equal(fu.body.id, view.original.id);
    assert.equal(view.original.content, 'done');
    assert.equal(view.followups.length, 0);
  });

  test('10062 after the deadline; unknown interaction; 401/50027 after the token TTL', async () => {
    const emu = await emulator({ interactionDeadlineMs: 150, interactionTokenTtlMs: 400 });
    const { id, token } = await control(emu, 'POST', '/interactions', { user_id: U.member1.id, name: 'slow' });
    await new Promise((r) => setTimeout(r, 250));
    const late = await api(emu, 'POST', `/interactions/${id}/${token}/callback`, { token: null, body: { type: 5 } });
    assert.equal(late.status, 404);
    assert.deepEqual(late.body, { message: 'Unknown interaction', code: 10062 });
    assert.equal((await control(emu, 'GET', `/interactions/${id}`)).expired, true);
    assert.equal((await api(emu, 'POST', `/interactions/${id}/wrong/callback`, { token: null, body: { type: 5 } })).body.code, 10062);

    const b = await control(emu, 'POST', '/interactions', { user_id: U.member1.id, name: 'fast' });
    await api(emu, 'POST', `/interactions/${b.id}/${b.token}/callback`, { token: null, body: { type: 4, data: { content: 'hi' } } });
    await new Promise((r) => setTimeout(r, 500));
    const expired = await api(emu, 'PATCH', `/webhooks/${emu.applicationId}/${b.token}/messages/@original`, { token: null, body: { content: 'x' } });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, 50027);
  });

  test('DM interactions carry user (no member); type 4 replies appear in the channel and as MESSAGE_CREATE', async () => {
    const emu = await emulator();
    const { gw } = await readySession(emu, Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.DIRECT_MESSAGES);
    const { id, token } = await control(emu, 'POST', '/interactions', { user_id: U.member1.id, name: 'me', guild_id: null });
    const ic = await gw.event('INTERACTION_CREATE');
    assert.equal(ic.d.id, id);
    assert.equal(ic.d.user.id, U.member1.id);
    assert.equal(ic.d.member, undefined);
    assert.equal(ic.d.channel.type, 1);
    const bad = await api(emu, 'POST', `/interactions/${id}/${token}/callback`, { token: null, body: { type: 4, data: { content: 'x'.repeat(2001) } } });
    assert.equal(bad.body.code, 50035);
    const pong = await api(emu, 'POST', `/interactions/${id}/${token}/callback`, { token: null, body: { type: 1 } });
    assert.equal(pong.status, 400, 'PONG is only for PING interactions');
    assert.equal(pong.body.errors.type._errors[0].code, 'BASE_TYPE_CHOICES');
    await api(emu, 'POST', `/interactions/${id}/${token}/callback`, { token: null, body: { type: 4, data: { content: 'You are member1' } } });
    const mc = await gw.event('MESSAGE_CREATE');
    assert.equal(mc.d.content, 'You are member1');
    assert.equal(mc.d.interaction_metadata.id, id);
    // A user's message in the guild channel reaches the bot without content (no MESSAGE_CONTENT intent).
    const ch = (await control(emu, 'GET', '/state')).channels.find((c) => c.type === 0).id;
    await control(emu, 'POST', '/messages', { author_id: U.owner1.id, channel_id: ch, content: 'secret' });
    const um = await gw.event('MESSAGE_CREATE');
    assert.equal(um.d.author.id, U.owner1.id);
    assert.equal(um.d.guild_id, emu.guildId);
    assert.equal(um.d.content, '');
    await gw.close();
  });
});

describe('emulator-cli.mjs', () => {
  test('prints one JSON line and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(here, 'emulator-cli.mjs'), '--config', JSON.stringify({ globalPerSecond: 7 })], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const m = await waitForLine(child, /^(\{.*\})\n/m, 10000, 'discord emulator');
      const line = JSON.parse(m[1]);
      assert.deepEqual(Object.keys(line), ['api', 'gateway', 'control', 'port']);
      assert.equal(line.api, `http://127.0.0.1:${line.port}/api/v10`);
      assert.equal(line.gateway, `ws://127.0.0.1:${line.port}/gateway`);
      assert.equal(line.control, `http://127.0.0.1:${line.port}/control`);
      const state = await (await fetch(`${line.control}/state`)).json();
      assert.equal(state.limits.globalPerSecond, 7);
      const me = await fetch(`${line.api}/users/@me`, { headers: { Authorization: `Bot ${state.bot.token}` } });
      assert.equal(me.status, 200);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
});
