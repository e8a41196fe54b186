// Negative tests of /bridge against the real pitwall-server (docs/bridge.md): a test client plays the
// bot with `ws` and node:crypto, and every refused frame must (1) come back as an error frame with the
// documented code and (2) change nothing: no session starts (GET /api/admin/bot), and on a live link
// the next application message with the expected seq is still accepted (its ack comes back).
// No pitwall-bot runs here; the Discord emulator is only there because the Stack wants one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';

import { Stack, bridgeSecret, memberIds, startEmulator, waitUntil } from './stack.mjs';

const botId = 'pitwall-bot';
const maxFrameBytes = 8192;     // bridge.max_frame_bytes for this server (default 65536)
const socketLimit = maxFrameBytes + 65536;  // /bridge's socket limit: bridge.max_frame_bytes + 64 KiB; Beast cuts bigger frames
const frameTimeoutMs = 3000;
const [memberDiscordId] = memberIds(1, 310000000000000000n);

let emulator;
let stack;
let url;

before(async () => {
  emulator = await startEmulator({ members: [{ id: memberDiscordId, username: 'protocol-member', roles: [] }] });
  stack = new Stack(emulator, {
    extraEnv: {
      PITWALL_BRIDGE_MAX_FRAME_BYTES: String(maxFrameBytes),
      // Long enough that the server's silence check (two intervals) never cuts a test's connection.
      PITWALL_BRIDGE_HEARTBEAT_S: '15',
    },
  });
  await stack.startServer();
  url = `ws://127.0.0.1:${stack.port}/bridge`;
  stack.seedMembers([memberDiscordId]);
});

after(async () => {
  await stack?.stop();
  await emulator?.close();
});

// --- a minimal bot ----------------------------------------------------------------------------------

const serverAppTypes = new Set(['dm.send', 'roles.apply', 'announce', 'command.result']);

class BridgeClient {
  static async open() {
    const client = new BridgeClient(new WebSocket(url));
    await new Promise((resolve, reject) => {
      client.ws.once('open', resolve);
      client.ws.once('error', reject);
    });
    client.hello = await client.next('hello');
    assert.equal(client.hello.t, 'hello');
    assert.equal(typeof client.hello.d.nonce, 'string');
    return client;
  }

  constructor(ws) {
    this.ws = ws;
    this.inbox = [];        // frames not yet taken, in order
    this.pushed = [];       // application messages the server sends on its own (DMs, roles): set aside
    this.waiter = null;
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    ws.on('error', () => {});  // 'close' follows
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'the server sends text frames only');
      const frame = JSON.parse(data.toString());
      if (serverAppTypes.has(frame.t)) this.pushed.push(frame); else this.inbox.push(frame);
      this.wake();
    });
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  // The next frame, strictly in order: an unexpected extra frame from the server fails the caller's
  // assertion on what it expected next.
  async next(what, timeoutMs = frameTimeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (this.closeInfo) throw new Error(`closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms while waiting for ${what}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
    }
    return this.inbox.shift();
  }

  async expectError(code, what = code) {
    const frame = await this.next(what);
    assert.equal(frame.t, 'error', `expected error ${code}, got ${JSON.stringify(frame)}`);
    assert.equal(frame.d?.code, code, `error code: ${JSON.stringify(frame)}`);
    assert.equal(typeof frame.d.message, 'string');
    assert.equal(frame.s, undefined, 'an error frame is a control frame (no s)');
    return frame;
  }

  async expectClose(code, timeoutMs = frameTimeoutMs) {
    const info = await Promise.race([
      this.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs)),
    ]);
    assert.equal(info.code, code, `close code (reason "${info.reason}")`);
    return info;
  }

  get open() { return this.ws.readyState === WebSocket.OPEN; }

  // A harmless application message: the result of a DM nobody queued (the server records nothing).
  async probe(seq, what = `ack of s=${seq}`) {
    this.send({ t: 'dm.result', s: seq, d: { id: `probe-${seq}-${Date.now()}`, status: 'delivered' } });
    const ack = await this.next(what);
    assert.deepEqual(ack, { t: 'ack', a: seq }, `${what}: ${JSON.stringify(ack)}`);
  }

  // Closes the active session's socket and waits until the server has seen it (GET /api/admin/bot
  // says disconnected), so the next test starts from a settled state.
  async closeNormally() {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await this.closed;
    await waitUntil(async () => (await stack.botStatus())?.connected === false, 3000, 'the server to see the close');
  }

  // Drops the TCP connection without a close frame (a crashed or cut-off bot).
  async drop() {
    this.ws.terminate();
    await this.closed;
  }
}

function sign(nonce, ts, id, secret = bridgeSecret) {
  return createHmac('sha256', secret).update(`${nonce}|${ts}|${id}`).digest('hex');
}

function identify(nonce, { ts = Date.now(), id = botId, signedId = id, secret = bridgeSecret, mac, resume } = {}) {
  const d = { bot_id: id, ts_ms: ts, mac: mac ?? sign(nonce, ts, signedId, secret) };
  if (resume) d.resume = resume;
  return { t: 'identify', d };
}

async function status() {
  const s = await stack.botStatus();
  assert.ok(s, 'GET /api/admin/bot answers');
  return s;
}

// A live link: hello, identify, ready.
async function handshake(options = {}) {
  const client = await BridgeClient.open();
  const sent = identify(client.hello.d.nonce, options);
  client.send(sent);
  const ready = await client.next('ready');
  assert.equal(ready.t, 'ready', JSON.stringify(ready));
  return { client, ready: ready.d, sent };
}

// The handshake is refused with `code` and close 4001, and no session started or took over.
async function assertRefusedHandshake(client, code, before) {
  await client.expectError(code);
  await client.expectClose(4001);
  const after = await status();
  assert.equal(after.sessions_started, before.sessions_started, 'no session started');
  assert.equal(after.resumes, before.resumes, 'no session resumed');
  assert.equal(after.connected, before.connected);
  assert.equal(after.session_id, before.session_id);
}

// --- forged, replayed, stale handshakes ------------------------------------------------------------

test('forged handshakes are refused with bridge.bad_signature and close 4001', async (t) => {
  const before = await status();
  assert.equal(before.connected, false);

  await t.test('wrong secret', async () => {
    const c = await BridgeClient.open();
    c.send(identify(c.hello.d.nonce, { secret: 'not-the-bridge-secret-but-just-as-long-0123456789' }));
    await assertRefusedHandshake(c, 'bridge.bad_signature', before);
  });
  await t.test('tampered mac (one hex digit flipped)', async () => {
    const c = await BridgeClient.open();
    const good = identify(c.hello.d.nonce);
    const mac = good.d.mac;
    good.d.mac = (mac[0] === '0' ? '1' : '0') + mac.slice(1);
    c.send(good);
    await assertRefusedHandshake(c, 'bridge.bad_signature', before);
  });
  await t.test('mac in upper case (the mac is lowercase hex)', async () => {
    const c = await BridgeClient.open();
    const good = identify(c.hello.d.nonce);
    good.d.mac = good.d.mac.toUpperCase();
    c.send(good);
    await assertRefusedHandshake(c, 'bridge.bad_signature', before);
  });
  await t.test('bot_id other than the signed one', async () => {
    const c = await BridgeClient.open();
    c.send(identify(c.hello.d.nonce, { id: 'pitwall-bot-2', signedId: botId }));
    await assertRefusedHandshake(c, 'bridge.bad_signature', before);
  });
  await t.test('ts_ms changed after signing', async () => {
    const c = await BridgeClient.open();
    const good = identify(c.hello.d.nonce);
    good.d.ts_ms += 1;
    c.send(good);
    await assertRefusedHandshake(c, 'bridge.bad_signature', before);
  });
  await t.test('signed over a nonce the server did not send', async () => {
    const c = await BridgeClient.open();
    c.send(identify('A'.repeat(43)));
    await assertRefusedHandshake(c, 'bridge.bad_signature', before);
  });
});

test('replayed handshakes are refused', async (t) => {
  await t.test('an identify captured on connection A, replayed on connection B', async () => {
    const { client: a, ready, sent: capture } = await handshake();  // the exact identify A sent
    const before = await status();
    assert.equal(before.connected, true);
    assert.equal(before.session_id, ready.session_id);

    const b = await BridgeClient.open();
    assert.notEqual(b.hello.d.nonce, a.hello.d.nonce, 'every connection gets its own nonce');
    b.send(capture);
    await assertRefusedHandshake(b, 'bridge.bad_signature', before);
    // A is untouched: still the active session, and its link still takes the next message.
    assert.equal(a.open, true);
    await a.probe(1);
    await a.closeNormally();
  });

  await t.test('a second identify on an identified connection: bridge.already_identified', async () => {
    const { client, ready } = await handshake();
    const before = await status();
    client.send(identify(client.hello.d.nonce));  // the same nonce, now used up
    await client.expectError('bridge.already_identified');
    client.send(identify(client.hello.d.nonce, { resume: { session_id: ready.session_id, last_seq: 0 } }));
    await client.expectError('bridge.already_identified');
    assert.equal(client.open, true);
    await client.probe(1, 'the link still takes s=1');
    const after = await status();
    assert.equal(after.sessions_started, before.sessions_started);
    assert.equal(after.resumes, before.resumes);
    assert.equal(after.session_id, ready.session_id);
    await client.closeNormally();
  });
});

test('stale handshakes are refused with bridge.stale_handshake and close 4001', async (t) => {
  const before = await status();
  for (const [name, offset] of [['ts_ms 10 minutes old', -10 * 60_000], ['ts_ms 10 minutes in the future', 10 * 60_000]]) {
    await t.test(name, async () => {
      const c = await BridgeClient.open();
      c.send(identify(c.hello.d.nonce, { ts: Date.now() + offset }));  // correctly signed, wrong clock
      await assertRefusedHandshake(c, 'bridge.stale_handshake', before);
    });
  }
  await t.test('a stale identify that is also forged answers bad_signature (the MAC is checked first)', async () => {
    const c = await BridgeClient.open();
    c.send(identify(c.hello.d.nonce, { ts: Date.now() - 10 * 60_000, secret: 'wrong-secret-wrong-secret-wrong-secret-0123' }));
    await assertRefusedHandshake(c, 'bridge.bad_signature', before);
  });
});

test('frames before identify: error, close 4002, no session', async (t) => {
  const before = await status();
  const cases = [
    ['dm.result', { t: 'dm.result', s: 1, d: { id: 'early', status: 'delivered' } }],
    ['member.update', { t: 'member.update', s: 1, d: { discord_user_id: memberDiscordId, username: 'x', roles: ['1'] } }],
    ['heartbeat', { t: 'heartbeat' }],
    ['ack', { t: 'ack', a: 0 }],
  ];
  for (const [name, frame] of cases) {
    await t.test(name, async () => {
      const c = await BridgeClient.open();
      c.send(frame);
      const error = await c.next(`error for ${name}`);
      assert.equal(error.t, 'error', JSON.stringify(error));
      assert.ok(['bridge.not_identified', 'bridge.unexpected_type'].includes(error.d.code), JSON.stringify(error));
      await c.expectClose(4002);
      const after = await status();
      assert.equal(after.sessions_started, before.sessions_started);
      assert.equal(after.connected, before.connected);
    });
  }
  await t.test('a server-only type before identify: unexpected_type, frame dropped, identify still possible', async () => {
    const c = await BridgeClient.open();
    c.send({ t: 'dm.send', s: 1, d: { id: 'dm-early', discord_user_id: memberDiscordId, content: 'hi', nonce: 'n', attempt: 1 } });
    const error = await c.expectError('bridge.unexpected_type');
    assert.equal(error.d.ref_seq, 1);
    assert.equal((await status()).sessions_started, before.sessions_started);
    c.send(identify(c.hello.d.nonce));
    const ready = await c.next('ready');
    assert.equal(ready.t, 'ready', JSON.stringify(ready));
    await c.probe(1);
    await c.closeNormally();
    before.sessions_started += 1;
  });
  const [{ discord_roles: roles }] = stack.sql(`SELECT discord_roles FROM users WHERE discord_id = '${memberDiscordId}'`);
  assert.doesNotMatch(roles ?? '', /"1"/, 'the early member.update changed nothing');
});

// --- refused frames on a live link -------------------------------------------------------------------

test('refused frames after the handshake: error frame, connection open, link state unchanged', async (t) => {
  const { client, ready } = await handshake();
  let seq = 0;  // the last s the server acknowledged
  const refuse = async (frame, code, { refSeq } = {}) => {
    client.send(frame);
    const error = await client.expectError(code);
    if (refSeq !== undefined) assert.equal(error.d.ref_seq, refSeq, JSON.stringify(error));
    assert.equal(client.open, true, 'the connection stays open');
    seq += 1;
    await client.probe(seq, `s=${seq} still accepted after ${code}`);
  };

  await t.test('not JSON', () => refuse('{"t":"dm.result","s":1,', 'bridge.malformed'));
  await t.test('a JSON array', () => refuse('[{"t":"heartbeat"}]', 'bridge.malformed'));
  await t.test('a JSON string', () => refuse('"heartbeat"', 'bridge.malformed'));
  await t.test('t missing', () => refuse({ s: seq + 1, d: { id: 'x', status: 'delivered' } }, 'bridge.malformed'));
  await t.test('t not a string', () => refuse({ t: 7, s: seq + 1 }, 'bridge.malformed'));
  await t.test('s as a string', () => refuse({ t: 'dm.result', s: String(seq + 1), d: { id: 'x', status: 'delivered' } }, 'bridge.malformed'));
  await t.test('s missing on an application message', () => refuse({ t: 'dm.result', d: { id: 'x', status: 'delivered' } }, 'bridge.malformed'));
  await t.test('s on a control frame', () => refuse({ t: 'heartbeat', s: seq + 1 }, 'bridge.malformed'));
  await t.test('a required field missing (dm.result without status)', () => refuse({ t: 'dm.result', s: seq + 1, d: { id: 'x' } }, 'bridge.malformed'));
  await t.test('nested deeper than 16 levels', () => {
    let deep = {};
    for (let i = 0; i < 20; i++) deep = { x: deep };
    return refuse({ t: 'dm.result', s: seq + 1, d: { id: 'x', status: 'delivered', extra: deep } }, 'bridge.malformed');
  });
  await t.test('unknown type', () => refuse({ t: 'dm.teleport', s: seq + 1, d: {} }, 'bridge.unknown_type'));
  await t.test('a server-only type sent by the bot (dm.send)', () => refuse({
    t: 'dm.send', s: seq + 1,
    d: { id: 'dm-1', discord_user_id: memberDiscordId, content: 'hi', nonce: 'n-1', attempt: 1 },
  }, 'bridge.unexpected_type', { refSeq: seq + 1 }));
  await t.test('a server-only control frame sent by the bot (hello)', () => refuse({
    t: 'hello', d: { nonce: 'x', heartbeat_ms: 1000, server_time_ms: Date.now() },
  }, 'bridge.unexpected_type'));
  await t.test('an ack above the last s the server sent (bridge.bad_ack)', () => refuse({ t: 'ack', a: 5 }, 'bridge.bad_ack'));
  await t.test(`a frame above bridge.max_frame_bytes (${maxFrameBytes}) but below the socket limit`, () => {
    const frame = JSON.stringify({ t: 'dm.result', s: seq + 1, d: { id: 'big', status: 'failed', error: 'x'.repeat(maxFrameBytes) } });
    assert.ok(frame.length > maxFrameBytes && frame.length < socketLimit);
    return refuse(frame, 'bridge.too_large');
  });
  await t.test('a frame of exactly bridge.max_frame_bytes is accepted', async () => {
    const shell = JSON.stringify({ t: 'dm.result', s: seq + 1, d: { id: `edge-${Date.now()}`, status: 'failed', error: '' } });
    const frame = shell.replace('"error":""', `"error":"${'y'.repeat(maxFrameBytes - shell.length)}"`);
    assert.equal(Buffer.byteLength(frame), maxFrameBytes);
    client.send(frame);
    seq += 1;
    assert.deepEqual(await client.next('ack of the edge frame'), { t: 'ack', a: seq });
  });

  await t.test('out of order: s=N+2 refused with ref_seq, then s=N+1 still accepted', async () => {
    const gap = seq + 2;
    client.send({ t: 'dm.result', s: gap, d: { id: 'gap', status: 'delivered' } });
    const error = await client.expectError('bridge.out_of_order');
    assert.equal(error.d.ref_seq, gap);
    assert.match(error.d.message, new RegExp(`expected seq ${seq + 1}, got ${gap}`));
    seq += 1;
    await client.probe(seq, `s=${seq} accepted after the gap`);
  });

  await t.test('a duplicate s is acked again and not handled twice', async () => {
    // member.update for a seeded member: s=N+1 sets roles ["501"], a replay of s=N+1 carrying
    // ["502"] must be dropped (re-acked, roles unchanged); s=N+2 with ["502"] then applies.
    const roles = () => JSON.parse(stack.sql(`SELECT discord_roles FROM users WHERE discord_id = '${memberDiscordId}'`)[0].discord_roles);
    const update = (s, role) => ({ t: 'member.update', s, d: { discord_user_id: memberDiscordId, username: 'protocol-member', roles: [role] } });
    seq += 1;
    client.send(update(seq, '501'));
    assert.deepEqual(await client.next('ack of the update'), { t: 'ack', a: seq });
    assert.deepEqual(roles(), ['501']);
    client.send(update(seq, '502'));
    assert.deepEqual(await client.next('re-ack of the duplicate'), { t: 'ack', a: seq }, 'a duplicate is acked again');
    client.send(update(seq - 1, '503'));
    assert.deepEqual(await client.next('re-ack of an older duplicate'), { t: 'ack', a: seq });
    assert.deepEqual(roles(), ['501'], 'the duplicate was not handled');
    seq += 1;
    client.send(update(seq, '502'));
    assert.deepEqual(await client.next('ack of the next update'), { t: 'ack', a: seq });
    assert.deepEqual(roles(), ['502']);
  });

  await t.test('the session did not change through all of it', async () => {
    const s = await status();
    assert.equal(s.connected, true);
    assert.equal(s.session_id, ready.session_id);
    assert.deepEqual(client.pushed, [], 'the server sent no application message of its own');
  });

  await t.test(`a frame above the socket limit (${socketLimit}) is cut by the socket layer: close 1009`, async () => {
    // Documented limit of the socket, not of the bridge: no error frame, the connection ends (1009
    // "message too big"), and the session stays resumable.
    client.send(JSON.stringify({ t: 'dm.result', s: seq + 1, d: { id: 'huge', status: 'failed', error: 'z'.repeat(socketLimit) } }));
    await client.expectClose(1009);
    assert.deepEqual(client.inbox, [], 'no error frame');
    const { client: again, ready: resumed } = await handshake({ resume: { session_id: ready.session_id, last_seq: 0 } });
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.session_id, ready.session_id);
    assert.equal(resumed.resume_from, seq, 'the huge frame was never received');
    await again.probe(seq + 1);
    await again.closeNormally();
  });
});

// --- resume -------------------------------------------------------------------------------------------

test('resume after an abnormal close: same session, resume_from = the last s the server got', async () => {
  const { client, ready } = await handshake();
  assert.equal(ready.resumed, false);
  assert.equal(ready.resume_from, 0);
  for (let s = 1; s <= 3; s++) await client.probe(s);
  const before = await status();
  await client.drop();

  const { client: again, ready: resumed } = await handshake({ resume: { session_id: ready.session_id, last_seq: 0 } });
  assert.deepEqual(resumed, { session_id: ready.session_id, resumed: true, resume_from: 3 });
  const after = await status();
  assert.equal(after.sessions_started, before.sessions_started, 'no new session');
  assert.equal(after.resumes, before.resumes + 1);
  assert.equal(after.connected, true);
  assert.equal(after.session_id, ready.session_id);
  // The inbound count carried over: s=4 is next, a replayed s=3 is a duplicate.
  again.send({ t: 'dm.result', s: 3, d: { id: 'replayed', status: 'delivered' } });
  assert.deepEqual(await again.next('re-ack of the replayed s=3'), { t: 'ack', a: 3 });
  await again.probe(4);
  await again.closeNormally();
});

test('resume naming an unknown session starts a new one', async () => {
  const before = await status();
  const { client, ready } = await handshake({ resume: { session_id: 'no-such-session-0123456789abcdef', last_seq: 7 } });
  assert.equal(ready.resumed, false);
  assert.equal(ready.resume_from, 0);
  assert.notEqual(ready.session_id, 'no-such-session-0123456789abcdef');
  const after = await status();
  assert.equal(after.sessions_started, before.sessions_started + 1);
  assert.equal(after.resumes, before.resumes);
  assert.equal(after.session_id, ready.session_id);
  await client.probe(1, 'a fresh link starts at s=1');
  await client.closeNormally();
});

test('a new connection replaces the active one: close 4003 on the old socket', async () => {
  const { client: first } = await handshake();
  const { client: second, ready } = await handshake();
  await first.expectClose(4003);
  assert.equal((await status()).session_id, ready.session_id);
  await second.probe(1);
  await second.closeNormally();
});

// --- heartbeats ---------------------------------------------------------------------------------------

test('heartbeat is answered with heartbeat_ack and takes no seq', async () => {
  const { client } = await handshake();
  client.send({ t: 'heartbeat' });
  assert.deepEqual(await client.next('heartbeat_ack'), { t: 'heartbeat_ack' });
  client.send({ t: 'heartbeat', a: 0 });
  assert.deepEqual(await client.next('heartbeat_ack'), { t: 'heartbeat_ack' });
  await client.probe(1, 'the first application message is still s=1');
  await client.closeNormally();
});

// --- error frames carry the ack; a refused identify spends the connection -------------------------

test('an error frame carries the receiver\'s a (docs/bridge.md, Errors: {"t":"error","a":12,...})', async () => {
  const { client } = await handshake();
  await client.probe(1);
  client.send({ t: 'dm.result', s: 3, d: { id: 'gap', status: 'delivered' } });
  const error = await client.expectError('bridge.out_of_order');
  try {
    assert.equal(error.a, 1, `the sender replays after a: ${JSON.stringify(error)}`);
  } finally {
    await client.closeNormally();
  }
});

test('bad_ack on an ack frame names no ref_seq (an ack has no s)', async () => {
  const { client } = await handshake();
  client.send({ t: 'ack', a: 9 });
  const error = await client.expectError('bridge.bad_ack');
  try {
    assert.equal(error.d.ref_seq, undefined, JSON.stringify(error));
  } finally {
    await client.closeNormally();
  }
});

test('a refused identify uses up the connection: a valid identify pipelined behind it starts no session', async () => {
  const before = await status();
  const tries = 24;
  let ready = 0;
  for (let i = 0; i < tries; i++) {
    const c = await BridgeClient.open();
    const stale = Date.now() - 10 * 60_000;
    if (i % 2 === 0) c.send(identify(c.hello.d.nonce, { ts: stale }));  // refused: stale_handshake, 4001
    else c.send({ t: 'dm.result', s: 1, d: { id: 'early', status: 'delivered' } });  // refused: 4002
    c.send(identify(c.hello.d.nonce));
    await c.closed;
    if (c.inbox.some((f) => f.t === 'ready')) ready += 1;
  }
  const after = await status();
  assert.equal(after.sessions_started - before.sessions_started, 0,
    `${after.sessions_started - before.sessions_started} session(s) started in ${tries} tries (${ready} ready frame(s) seen)`);
});
