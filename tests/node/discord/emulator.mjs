// A Discord emulator for tests: Gateway v10 (JSON, no compression), a subset of REST v10 with
// Discord's rate-limit headers and error bodies, and a control API that plays the Discord side
// (users invoking slash commands, roles changing, DMs closing, connections dropping).
// Behaviour follows ../shared/reference/garage61-and-discord.md Part 2 (§2.3 gateway, §2.4 REST,
// §2.5 rate limits, §2.6 interactions, §2.7 discord.js). discord.js 14 runs against it unmodified
// with `rest: { api: 'http://127.0.0.1:PORT/api', version: '10' }` (see discordjs.test.mjs).
//
//   const emu = await startDiscordEmulator({ ...options });
//   emu.apiBase     http://127.0.0.1:P/api/v10   (REST; discord.js wants the value without /v10)
//   emu.gatewayUrl  ws://127.0.0.1:P/gateway     (what GET /gateway/bot returns; also resume_gateway_url)
//   emu.controlBase http://127.0.0.1:P/control   (control API, no auth, loopback test use)
//   emu.state       the live state (members, messages, sessions, stats ...), for white-box tests
//   await emu.close()
//
// Everything is one HTTP server on loopback. The option list, their defaults and the control API
// are documented in tests/node/README.md ("discord/: a Discord emulator").
//
// Deliberate simplifications (documented in the README too):
//   * one guild; JSON encoding only (etf → close 4002); `compress` is ignored (frames are plain text);
//   * a client that sends no heartbeat for heartbeat_interval*1.5 (or within heartbeatRequestTimeoutMs
//     after a server op 1) is closed with 4009 and its session is invalidated (the docs say 4009 means
//     "start a new session");
//   * per-route limits are fixed windows (the first request opens the window);
//   * permission checks are limited to role hierarchy for role add/remove.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { WebSocketServer, WebSocket } from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = JSON.parse(fs.readFileSync(path.join(here, '../peers/fixtures.json'), 'utf8')).discord;

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

export const Intents = Object.freeze({
  GUILDS: 1 << 0,
  GUILD_MEMBERS: 1 << 1,
  GUILD_MODERATION: 1 << 2,
  GUILD_EXPRESSIONS: 1 << 3,
  GUILD_INTEGRATIONS: 1 << 4,
  GUILD_WEBHOOKS: 1 << 5,
  GUILD_INVITES: 1 << 6,
  GUILD_VOICE_STATES: 1 << 7,
  GUILD_PRESENCES: 1 << 8,
  GUILD_MESSAGES: 1 << 9,
  GUILD_MESSAGE_REACTIONS: 1 << 10,
  GUILD_MESSAGE_TYPING: 1 << 11,
  DIRECT_MESSAGES: 1 << 12,
  DIRECT_MESSAGE_REACTIONS: 1 << 13,
  DIRECT_MESSAGE_TYPING: 1 << 14,
  MESSAGE_CONTENT: 1 << 15,
  GUILD_SCHEDULED_EVENTS: 1 << 16,
  AUTO_MODERATION_CONFIGURATION: 1 << 20,
  AUTO_MODERATION_EXECUTION: 1 << 21,
  GUILD_MESSAGE_POLLS: 1 << 24,
  DIRECT_MESSAGE_POLLS: 1 << 25,
});
const KNOWN_INTENTS = Object.values(Intents).reduce((a, b) => a | b, 0);
export const PRIVILEGED_INTENTS = Intents.GUILD_MEMBERS | Intents.GUILD_PRESENCES | Intents.MESSAGE_CONTENT;

export const GatewayOp = Object.freeze({
  DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, PRESENCE_UPDATE: 3, VOICE_STATE_UPDATE: 4, RESUME: 6, RECONNECT: 7,
  REQUEST_GUILD_MEMBERS: 8, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11,
});

const CLOSE_REASONS = {
  4000: 'Unknown error.', 4001: 'Unknown opcode.', 4002: 'Decode error.', 4003: 'Not authenticated.',
  4004: 'Authentication failed.', 4005: 'Already authenticated.', 4007: 'Invalid seq.', 4008: 'Rate limited.',
  4009: 'Session timed out.', 4010: 'Invalid shard.', 4011: 'Sharding required.', 4012: 'Invalid API version.',
  4013: 'Invalid intent(s).', 4014: 'Disallowed intent(s).',
};

const MessageFlags = { EPHEMERAL: 1 << 6, LOADING: 1 << 7, SUPPRESS_EMBEDS: 1 << 2, SUPPRESS_NOTIFICATIONS: 1 << 12 };
const Permissions = { ADMINISTRATOR: 8n, ALL: (1n << 53n) - 1n };
const EVERYONE_PERMISSIONS = '2147552256'; // VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS

// Default per-route limits. Keys are bucket names: "METHOD /template" (the DELETE of a member role
// shares the PUT bucket). Buckets are counted per major parameter (channel, guild, webhook+token).
export const DEFAULT_ROUTE_LIMITS = Object.freeze({
  'POST /channels/{channel_id}/messages': { limit: 5, windowMs: 1000 },
  'POST /users/@me/channels': { limit: 10, windowMs: 1000 },
  'PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}': { limit: 10, windowMs: 1000 },
  default: { limit: 50, windowMs: 1000 },
});

const DISCORD_EPOCH = 1420070400000n;
let lastSnowflakeMs = 0;
let snowflakeSeq = 0;
/** A real-looking, strictly increasing snowflake (19 digits today). */
export function snowflake(atMs = Date.now()) {
  let ms = atMs;
  if (ms <= lastSnowflakeMs) {
    ms = lastSnowflakeMs;
    snowflakeSeq += 1;
    if (snowflakeSeq > 4095) { ms += 1; snowflakeSeq = 0; }
  } else {
    snowflakeSeq = 0;
  }
  lastSnowflakeMs = ms;
  return ((BigInt(ms) - DISCORD_EPOCH) << 22n | (1n << 17n) | BigInt(snowflakeSeq)).toString();
}

/** A Discord-shaped bot token: base64(application id).timestamp-ish.hmac-ish */
export function makeBotToken(applicationId, secret = 'pitwall-discord-emulator') {
  const b64 = (b) => Buffer.from(b).toString('base64url');
  const mac = crypto.createHmac('sha256', secret).update(applicationId).digest().subarray(0, 27);
  return `${b64(applicationId)}.GEmuLa.${b64(mac)}`;
}

const iso = (ms) => `${new Date(ms).toISOString().slice(0, -1)}000+00:00`;
const isSnowflake = (v) => typeof v === 'string' && /^\d{15,20}$/.test(v);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

class ApiError extends Error {
  constructor(status, code, message, errors) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }

  body() {
    const b = { message: this.message, code: this.code };
    if (this.errors) b.errors = this.errors;
    return b;
  }
}

const formError = (errors) => new ApiError(400, 50035, 'Invalid Form Body', errors);
const fieldError = (code, message) => ({ _errors: [{ code, message }] });
const unknown = (what, code) => new ApiError(404, code, `Unknown ${what}`);

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function defaultRoles() {
  const positions = { Owner: 4, Admin: 3, Member: 2, Driver: 1 };
  return Object.entries(FIXTURES.roles).map(([name, id]) => ({
    id, name, position: positions[name] ?? 1, permissions: name === 'Owner' || name === 'Admin' ? '8' : '0',
  }));
}

function defaultMembers() {
  return Object.values(FIXTURES.users).filter((u) => u.member).map((u) => ({
    id: u.id, username: u.username, global_name: u.global_name, avatar: u.avatar,
    nick: u.member.nick, roles: [...u.member.roles], joined_at: u.member.joined_at,
  }));
}

function defaultUsers() {
  return Object.values(FIXTURES.users).filter((u) => !u.member).map((u) => ({
    id: u.id, username: u.username, global_name: u.global_name, avatar: u.avatar,
  }));
}

export function resolveOptions(options = {}) {
  const applicationId = options.applicationId ?? '1100000000000000001';
  const o = {
    host: '127.0.0.1',
    port: 0,
    applicationId,
    botToken: makeBotToken(applicationId),
    botUsername: 'Pitwall',
    guildId: FIXTURES.guild_id,
    guildName: 'Pitwall Test Team',
    ownerId: FIXTURES.users.owner1?.id ?? null,
    roles: defaultRoles(),
    members: defaultMembers(),
    users: defaultUsers(),
    channels: [{ id: '800000000000000100', name: 'general', type: 0 }],
    botRoleId: '900000000000000099',
    botRolePosition: null, // default: above every configured role
    heartbeatIntervalMs: 41250,
    heartbeatRequestTimeoutMs: 5000,
    resumeWindowMs: 180000,
    eventBufferSize: 1000,
    maxPayloadBytes: 4096,
    gatewaySendLimit: { count: 120, windowMs: 60000 },
    allowedIntents: KNOWN_INTENTS,
    identifyConcurrency: 1,
    enforceIdentifyConcurrency: false,
    shards: 1,
    sessionStartTotal: 1000,
    globalPerSecond: 50,
    routeLimits: {},
    dmClosedUsers: [],
    interactionDeadlineMs: 3000,
    interactionTokenTtlMs: 15 * 60 * 1000,
    nonceWindowMs: 5 * 60 * 1000,
    invalidRequestLogging: false,
    verbose: false,
    requestLogSize: 2000,
  };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) o[k] = v;
  o.routeLimits = { ...DEFAULT_ROUTE_LIMITS, ...(options.routeLimits ?? {}) };
  if (!options.botToken && options.applicationId) o.botToken = makeBotToken(o.applicationId);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Rate limiting
// ---------------------------------------------------------------------------------------------

class FixedWindow {
  constructor() { this.start = 0; this.count = 0; }

  roll(now, windowMs) {
    if (now >= this.start + windowMs) { this.start = now; this.count = 0; }
  }
}

class RateLimiter {
  constructor(emu) {
    this.emu = emu;
    this.buckets = new Map(); // `${bucket}\0${major}` -> FixedWindow
    this.global = new Map(); // token -> FixedWindow
  }

  reset() { this.buckets.clear(); this.global.clear(); }

  config(bucket) {
    const limits = this.emu.opts.routeLimits;
    const c = limits[bucket] ?? limits.default ?? DEFAULT_ROUTE_LIMITS.default;
    return { limit: Math.max(1, Number(c.limit)), windowMs: Math.max(1, Number(c.windowMs ?? c.window_ms ?? 1000)) };
  }

  static hash(bucket) { return crypto.createHash('md5').update(`pitwall-emu:${bucket}`).digest('hex'); }

  // Peeks (take=false) or consumes one request; returns the header values.
  route(bucket, major, now, take) {
    const { limit, windowMs } = this.config(bucket);
    const key = `${bucket}\0${major}`;
    let w = this.buckets.get(key);
    if (!w) { w = new FixedWindow(); this.buckets.set(key, w); }
    w.roll(now, windowMs);
    let ok = true;
    if (take) {
      if (w.count >= limit) ok = false;
      else w.count += 1;
    }
    const resetAt = w.count === 0 ? now + windowMs : w.start + windowMs;
    return { ok, limit, remaining: Math.max(0, limit - w.count), resetAt, hash: RateLimiter.hash(bucket) };
  }

  takeGlobal(token, now) {
    const limit = Math.max(1, Number(this.emu.opts.globalPerSecond));
    let w = this.global.get(token);
    if (!w) { w = new FixedWindow(); this.global.set(token, w); }
    w.roll(now, 1000);
    if (w.count >= limit) return { ok: false, resetAt: w.start + 1000 };
    w.count += 1;
    return { ok: true };
  }
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

// { method, template, handler, auth, globalExempt, bucket, major(params) }
function route(method, template, handler, extra = {}) {
  return {
    method,
    template,
    segments: template.split('/').filter(Boolean),
    handler,
    auth: extra.auth ?? true,
    globalExempt: extra.globalExempt ?? false,
    bucket: extra.bucket ?? `${method} ${template}`,
    major: extra.major ?? ((p) => p.channel_id ?? p.guild_id ?? 'global'),
  };
}

function matchTemplate(r, segs) {
  if (r.segments.length !== segs.length) return null;
  const params = {};
  for (let i = 0; i < segs.length; i += 1) {
    const t = r.segments[i];
    if (t.startsWith('{')) {
      if (!segs[i]) return null;
      params[t.slice(1, -1)] = decodeURIComponent(segs[i]);
    } else if (t !== segs[i]) {
      return null;
    }
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// Body parsing
// ---------------------------------------------------------------------------------------------

const MAX_BODY = 25 * 1024 * 1024;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new ApiError(413, 40005, 'Request entity too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Minimal multipart/form-data: `payload_json` plus file parts (discord.js sends files this way).
function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new ApiError(400, 50035, 'Invalid Form Body', { _errors: [{ code: 'MULTIPART_INVALID', message: 'Missing boundary' }] });
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const out = { json: undefined, files: [] };
  let pos = buf.indexOf(boundary);
  while (pos !== -1) {
    const start = pos + boundary.length;
    if (buf.subarray(start, start + 2).toString() === '--') break;
    const next = buf.indexOf(boundary, start);
    if (next === -1) break;
    const part = buf.subarray(start + 2, next - 2); // skip CRLF after boundary and before next
    const sep = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, sep).toString('utf8');
    const body = part.subarray(sep + 4);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    if (name === 'payload_json') out.json = body.toString('utf8');
    else if (filename !== undefined) out.files.push({ field: name, filename, size: body.length, content_type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? null });
    pos = next;
  }
  return out;
}

function parseRequestBody(buf, contentType = '') {
  if (!buf.length) return { body: undefined, files: [] };
  if (/^multipart\/form-data/i.test(contentType)) {
    const mp = parseMultipart(buf, contentType);
    let body;
    if (mp.json !== undefined) {
      try { body = JSON.parse(mp.json); } catch { throw new ApiError(400, 50109, 'The request body contains invalid JSON.'); }
    }
    return { body, files: mp.files };
  }
  try {
    return { body: JSON.parse(buf.toString('utf8')), files: [] };
  } catch {
    throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
  }
}

// ---------------------------------------------------------------------------------------------
// Message validation
// ---------------------------------------------------------------------------------------------

function embedLength(e) {
  let n = 0;
  const s = (v) => (typeof v === 'string' ? v.length : 0);
  n += s(e.title) + s(e.description) + s(e.footer?.text) + s(e.author?.name);
  for (const f of e.fields ?? []) n += s(f?.name) + s(f?.value);
  return n;
}

// Validates a message create/edit body; throws 50035 / 50006 like Discord.
function validateMessageBody(body, { create, files = [] } = {}) {
  if (body === undefined || body === null) body = {};
  if (typeof body !== 'object' || Array.isArray(body)) throw formError({ _errors: [{ code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }] });
  const errors = {};
  if (body.content !== undefined && body.content !== null) {
    if (typeof body.content !== 'string') errors.content = fieldError('BASE_TYPE_STRING', 'Must be a string.');
    else if ([...body.content].length > 2000) errors.content = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
  }
  if (body.embeds !== undefined && body.embeds !== null) {
    if (!Array.isArray(body.embeds)) {
      errors.embeds = fieldError('BASE_TYPE_ARRAY', 'Must be an array.');
    } else if (body.embeds.length > 10) {
      errors.embeds = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
    } else {
      const per = {};
      let total = 0;
      body.embeds.forEach((e, i) => {
        if (!e || typeof e !== 'object') { per[i] = fieldError('DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType'); return; }
        const fe = {};
        if (typeof e.title === 'string' && e.title.length > 256) fe.title = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 256 or fewer in length.');
        if (typeof e.description === 'string' && e.description.length > 4096) fe.description = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 4096 or fewer in length.');
        if (Array.isArray(e.fields) && e.fields.length > 25) fe.fields = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
        if (Object.keys(fe).length) per[i] = fe;
        total += embedLength(e);
      });
      if (Object.keys(per).length) errors.embeds = per;
      else if (total > 6000) errors.embeds = fieldError('MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
    }
  }
  if (body.nonce !== undefined && body.nonce !== null) {
    if (typeof body.nonce === 'string' && body.nonce.length > 25) errors.nonce = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    else if (typeof body.nonce !== 'string' && !Number.isInteger(body.nonce)) errors.nonce = fieldError('BASE_TYPE_STRING', 'Must be a string or an integer.');
  }
  if (Object.keys(errors).length) throw formError(errors);
  if (create) {
    const hasContent = typeof body.content === 'string' && body.content.length > 0;
    const hasOther = (Array.isArray(body.embeds) && body.embeds.length) || (Array.isArray(body.components) && body.components.length)
      || (Array.isArray(body.sticker_ids) && body.sticker_ids.length) || body.poll || files.length;
    if (!hasContent && !hasOther) throw new ApiError(400, 50006, 'Cannot send an empty message');
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------

class DiscordEmulator {
  constructor(options) {
    this.opts = resolveOptions(options);
    this.startedAt = Date.now();
    this.limiter = new RateLimiter(this);
    this.timers = new Set();
    this.conns = new Set();
    this.nextConnId = 1;
    this.state = this.initialState();
    this.routes = this.buildRoutes();
    this.controlRoutes = this.buildControlRoutes();
  }

  log(...args) { if (this.opts.verbose) console.error('[discord-emulator]', ...args); } // eslint-disable-line no-console

  // ---- state -----------------------------------------------------------------------------

  initialState() {
    const o = this.opts;
    const users = new Map();
    const addUser = (u) => {
      const user = {
        id: String(u.id), username: u.username ?? `user${String(u.id).slice(-4)}`, global_name: u.global_name ?? null,
        avatar: u.avatar ?? null, discriminator: '0', public_flags: 0, flags: 0, banner: null, accent_color: null,
        avatar_decoration_data: null, collectibles: null, primary_guild: null,
      };
      if (u.bot) user.bot = true;
      users.set(user.id, user);
      return user;
    };
    const bot = addUser({ id: o.applicationId, username: o.botUsername, bot: true });
    bot.discriminator = '0000';
    bot.verified = true;
    bot.mfa_enabled = false;
    for (const u of o.users ?? []) addUser(u);

    const roles = new Map();
    roles.set(o.guildId, {
      id: o.guildId, name: '@everyone', position: 0, permissions: EVERYONE_PERMISSIONS, managed: false, mentionable: false,
    });
    for (const r of o.roles) roles.set(String(r.id), { ...r, id: String(r.id), position: r.position ?? 1, permissions: String(r.permissions ?? '0') });
    const maxPos = Math.max(0, ...[...roles.values()].map((r) => r.position));
    roles.set(o.botRoleId, {
      id: o.botRoleId, name: o.botUsername, position: o.botRolePosition ?? maxPos + 1, permissions: '8', managed: true,
      tags: { bot_id: o.applicationId },
    });

    const members = new Map();
    const now = Date.now();
    for (const m of o.members) {
      addUser(m);
      members.set(String(m.id), { user_id: String(m.id), nick: m.nick ?? null, roles: (m.roles ?? []).map(String), joined_at: m.joined_at ?? iso(now) });
    }
    members.set(bot.id, { user_id: bot.id, nick: null, roles: [o.botRoleId], joined_at: iso(now) });

    const channels = new Map();
    o.channels.forEach((c, i) => {
      channels.set(String(c.id), {
        id: String(c.id), type: c.type ?? 0, guild_id: o.guildId, name: c.name ?? `channel-${i}`, position: c.position ?? i,
        permission_overwrites: [], topic: c.topic ?? null, nsfw: false, last_message_id: null, rate_limit_per_user: 0,
        parent_id: null, flags: 0,
      });
    });

    return {
      application: { id: o.applicationId, flags: this.applicationFlags() },
      bot,
      users,
      guild: { id: o.guildId, name: o.guildName, owner_id: o.ownerId ?? bot.id, created_at_ms: now },
      roles,
      members,
      channels,
      dmChannels: new Map(), // user id -> channel id
      dmClosed: new Set((o.dmClosedUsers ?? []).map(String)),
      messages: [], // records, see createMessage
      messagesById: new Map(),
      commands: new Map(), // scope ('global' | guild id) -> [command]
      interactions: new Map(),
      interactionsByToken: new Map(),
      sessions: new Map(),
      auditLog: [],
      requestLog: [],
      stats: {
        requests: 0, by_route: {}, by_status: {}, rate_limited_429: 0, global_429: 0, invalid_requests: 0,
        missing_user_agent: 0, identifies: 0, resumes: 0, failed_resumes: 0, gateway_connections: 0, gateway_closes: {},
        heartbeats: 0, dispatches: 0, control_requests: 0,
      },
    };
  }

  applicationFlags() {
    const a = this.opts.allowedIntents;
    let f = 0;
    if (a & Intents.GUILD_PRESENCES) f |= 1 << 12;
    if (a & Intents.GUILD_MEMBERS) f |= 1 << 14;
    if (a & Intents.MESSAGE_CONTENT) f |= 1 << 18;
    return f;
  }

  user(id) { return this.state.users.get(String(id)); }

  memberObject(userId, { withUser = true } = {}) {
    const m = this.state.members.get(String(userId));
    if (!m) return null;
    const o = {
      nick: m.nick, avatar: null, banner: null, roles: [...m.roles], joined_at: m.joined_at, premium_since: null,
      deaf: false, mute: false, flags: 0, pending: false, communication_disabled_until: null, unusual_dm_activity_until: null,
    };
    if (withUser) o.user = clone(this.user(userId));
    return o;
  }

  roleObject(r) {
    return {
      id: r.id, name: r.name, description: null, color: r.color ?? 0,
      colors: { primary_color: r.color ?? 0, secondary_color: null, tertiary_color: null },
      hoist: r.hoist ?? false, icon: null, unicode_emoji: null, position: r.position, permissions: String(r.permissions),
      managed: r.managed ?? false, mentionable: r.mentionable ?? false, flags: 0, ...(r.tags ? { tags: r.tags } : {}),
    };
  }

  rolesList() { return [...this.state.roles.values()].sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1)).map((r) => this.roleObject(r)); }

  permissionsOf(userId) {
    const m = this.state.members.get(String(userId));
    if (!m) return 0n;
    if (this.state.guild.owner_id === String(userId)) return Permissions.ALL;
    let p = BigInt(this.state.roles.get(this.state.guild.id)?.permissions ?? '0');
    for (const rid of m.roles) p |= BigInt(this.state.roles.get(rid)?.permissions ?? '0');
    return (p & Permissions.ADMINISTRATOR) ? Permissions.ALL : p;
  }

  highestRolePosition(userId) {
    const m = this.state.members.get(String(userId));
    return Math.max(0, ...(m?.roles ?? []).map((r) => this.state.roles.get(r)?.position ?? 0));
  }

  guildObject({ full, intents = 0 }) {
    const g = this.state.guild;
    const o = {
      id: g.id, name: g.name, icon: null, icon_hash: null, splash: null, discovery_splash: null, owner_id: g.owner_id,
      afk_channel_id: null, afk_timeout: 300, widget_enabled: false, widget_channel_id: null, verification_level: 0,
      default_message_notifications: 0, explicit_content_filter: 0, roles: this.rolesList(), emojis: [], features: [],
      mfa_level: 0, application_id: null, system_channel_id: [...this.state.channels.keys()][0] ?? null,
      system_channel_flags: 0, rules_channel_id: null, max_presences: null, max_members: 500000, vanity_url_code: null,
      description: null, banner: null, premium_tier: 0, premium_subscription_count: 0, preferred_locale: 'en-US',
      public_updates_channel_id: null, max_video_channel_users: 25, max_stage_video_channel_users: 50, nsfw_level: 0,
      stickers: [], premium_progress_bar_enabled: false, safety_alerts_channel_id: null, incidents_data: null,
    };
    if (full) {
      const botMember = this.state.members.get(this.state.bot.id);
      const memberIds = (intents & Intents.GUILD_MEMBERS) ? [...this.state.members.keys()] : [this.state.bot.id];
      Object.assign(o, {
        joined_at: botMember?.joined_at ?? iso(g.created_at_ms), large: false, unavailable: false,
        member_count: this.state.members.size, voice_states: [], members: memberIds.map((id) => this.memberObject(id)),
        channels: [...this.state.channels.values()].map((c) => { const x = clone(c); delete x.guild_id; return x; }),
        threads: [], presences: [], stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [],
        embedded_activities: [], lazy: true,
      });
    }
    return o;
  }

  dmChannelFor(userId) {
    let id = this.state.dmChannels.get(userId);
    if (!id) {
      id = snowflake();
      this.state.dmChannels.set(userId, id);
      this.state.channels.set(id, { id, type: 1, last_message_id: null, flags: 0, recipients: [userId], recipient_id: userId });
    }
    return this.state.channels.get(id);
  }

  channelObject(c) {
    if (c.type === 1) {
      return { id: c.id, type: 1, last_message_id: c.last_message_id, flags: 0, recipients: [clone(this.user(c.recipient_id))] };
    }
    return clone(c);
  }

  // ---- messages ----------------------------------------------------------------------------

  // record: { message (the API object), channel_id, guild_id, recipient_id, author_id, created_at_ms, edited,
  //           edited_at_ms, deleted, ephemeral, interaction_id, nonce }
  createMessage({ channel, authorId, body, files = [], type = 0, extra = {}, interactionId = null, dispatch = true }) {
    const now = Date.now();
    const id = snowflake(now);
    const author = this.user(authorId);
    const flags = Number(body.flags ?? 0);
    const message = {
      id, type, content: body.content ?? '', channel_id: channel.id, author: clone(author),
      attachments: files.map((f) => ({ id: snowflake(), filename: f.filename, size: f.size, content_type: f.content_type, url: `https://cdn.invalid/${f.filename}`, proxy_url: `https://cdn.invalid/${f.filename}` })),
      embeds: clone(body.embeds ?? []), mentions: [], mention_roles: [], pinned: false, mention_everyone: false, tts: Boolean(body.tts),
      timestamp: iso(now), edited_timestamp: null, flags, components: clone(body.components ?? []),
      ...(body.nonce !== undefined && body.nonce !== null ? { nonce: body.nonce } : {}),
      ...extra,
    };
    const rec = {
      message, id, channel_id: channel.id, guild_id: channel.guild_id ?? null, recipient_id: channel.type === 1 ? channel.recipient_id : null,
      author_id: String(authorId), created_at_ms: now, edited: false, edited_at_ms: null, deleted: false,
      ephemeral: Boolean(flags & MessageFlags.EPHEMERAL), interaction_id: interactionId, nonce: body.nonce ?? null,
      enforce_nonce: body.enforce_nonce === true,
    };
    this.state.messages.push(rec);
    this.state.messagesById.set(id, rec);
    channel.last_message_id = id;
    if (dispatch) this.dispatchMessage('MESSAGE_CREATE', rec);
    return rec;
  }

  editMessage(rec, body) {
    const m = rec.message;
    const wasLoading = Boolean(m.flags & MessageFlags.LOADING);
    if ('content' in body) m.content = body.content ?? '';
    if ('embeds' in body) m.embeds = clone(body.embeds ?? []);
    if ('components' in body) m.components = clone(body.components ?? []);
    if ('flags' in body && body.flags !== null) m.flags = (m.flags & (MessageFlags.EPHEMERAL)) | (Number(body.flags) & MessageFlags.SUPPRESS_EMBEDS);
    if (wasLoading) {
      m.flags &= ~MessageFlags.LOADING; // completing a deferred reply is not an "edit"
    } else {
      m.edited_timestamp = iso(Date.now());
      rec.edited = true;
      rec.edited_at_ms = Date.now();
    }
    this.dispatchMessage('MESSAGE_UPDATE', rec);
    return rec;
  }

  deleteMessage(rec) {
    rec.deleted = true;
    if (rec.ephemeral) return;
    const d = { id: rec.id, channel_id: rec.channel_id, ...(rec.guild_id ? { guild_id: rec.guild_id } : {}) };
    this.dispatchToGuildOrDm(rec.guild_id, 'MESSAGE_DELETE', () => d, (s) => this.messageIntentOk(s, rec));
  }

  messageIntentOk(session, rec) {
    return rec.guild_id ? Boolean(session.intents & Intents.GUILD_MESSAGES) : Boolean(session.intents & Intents.DIRECT_MESSAGES);
  }

  dispatchMessage(t, rec) {
    if (rec.ephemeral) return;
    this.dispatchToGuildOrDm(rec.guild_id, t, (session) => {
      const d = clone(rec.message);
      if (rec.guild_id) {
        d.guild_id = rec.guild_id;
        const mem = this.memberObject(rec.author_id, { withUser: false });
        if (mem) d.member = mem;
        const botMentioned = (d.content ?? '').includes(`<@${this.state.bot.id}>`);
        if (!(session.intents & Intents.MESSAGE_CONTENT) && rec.author_id !== this.state.bot.id && !botMentioned) {
          d.content = ''; d.embeds = []; d.attachments = []; d.components = [];
        }
      }
      return d;
    }, (s) => this.messageIntentOk(s, rec));
  }

  // ---- gateway: sessions and dispatch -----------------------------------------------------

  shardOf(guildId, count) {
    if (!guildId || count <= 1) return 0;
    return Number((BigInt(guildId) >> 22n) % BigInt(count));
  }

  liveSessions() {
    const now = Date.now();
    const out = [];
    for (const s of this.state.sessions.values()) {
      if (s.invalid) continue;
      if (!s.conn && s.resumableUntil < now) { this.invalidateSession(s); continue; }
      out.push(s);
    }
    return out;
  }

  // Sends to every session whose shard owns the guild (DMs: shard 0). build(session) → d.
  dispatchToGuildOrDm(guildId, t, build, filter = () => true) {
    let n = 0;
    for (const s of this.liveSessions()) {
      const [shardId, count] = s.shard;
      if (this.shardOf(guildId, count) !== shardId) continue;
      if (!filter(s)) continue;
      this.dispatch(s, t, build(s));
      n += 1;
    }
    return n;
  }

  dispatch(session, t, d, { buffer = true } = {}) {
    session.seq += 1;
    const payload = { op: 0, t, s: session.seq, d };
    if (buffer) {
      session.events.push(payload);
      if (session.events.length > this.opts.eventBufferSize) session.events.shift();
    }
    this.state.stats.dispatches += 1;
    if (session.conn) this.send(session.conn, payload);
  }

  send(conn, payload) {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(payload));
  }

  invalidateSession(s) {
    s.invalid = true;
    this.state.sessions.delete(s.id);
  }

  onGatewayConnection(ws, url) {
    const st = this.state.stats;
    st.gateway_connections += 1;
    const conn = {
      id: this.nextConnId++, ws, session: null, authed: false, closed: false, serverClose: null, sends: [],
      connectedAt: Date.now(), lastHeartbeatAt: null, heartbeatTimer: null,
    };
    this.conns.add(conn);
    ws.on('close', (code) => this.onGatewayClose(conn, code));
    ws.on('error', () => {});
    const v = url.searchParams.get('v');
    const encoding = url.searchParams.get('encoding');
    if (v !== null && v !== '10') { this.closeConn(conn, 4012); return; }
    if (encoding !== null && encoding !== 'json') { this.closeConn(conn, 4002, 'Unsupported encoding (only json).'); return; }
    ws.on('message', (data, isBinary) => {
      try {
        this.onGatewayMessage(conn, data, isBinary);
      } catch (err) {
        console.error('[discord-emulator] gateway internal error', err); // eslint-disable-line no-console
        this.closeConn(conn, 4000);
      }
    });
    this.send(conn, { op: GatewayOp.HELLO, d: { heartbeat_interval: this.opts.heartbeatIntervalMs, _trace: ['["gateway-emulator",{"micros":0}]'] }, s: null, t: null });
    this.armHeartbeat(conn, this.opts.heartbeatIntervalMs * 1.5);
  }

  armHeartbeat(conn, ms) {
    if (conn.heartbeatTimer) clearTimeout(conn.heartbeatTimer);
    conn.heartbeatTimer = setTimeout(() => {
      conn.heartbeatTimer = null;
      this.log(`connection ${conn.id}: heartbeat missed, closing 4009`);
      this.closeConn(conn, 4009, undefined, { invalidate: true });
    }, Math.max(1, Math.round(ms)));
    conn.heartbeatTimer.unref?.();
  }

  closeConn(conn, code, reason, { invalidate = false } = {}) {
    if (conn.closed || conn.serverClose) return;
    conn.serverClose = { code, invalidate };
    if (conn.heartbeatTimer) { clearTimeout(conn.heartbeatTimer); conn.heartbeatTimer = null; }
    try { conn.ws.close(code, reason ?? CLOSE_REASONS[code] ?? ''); } catch { conn.ws.terminate(); }
    const t = setTimeout(() => { this.timers.delete(t); if (!conn.closed) conn.ws.terminate(); }, 2000);
    t.unref?.();
    this.timers.add(t);
  }

  onGatewayClose(conn, code) {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    if (conn.heartbeatTimer) { clearTimeout(conn.heartbeatTimer); conn.heartbeatTimer = null; }
    const effective = conn.serverClose?.code ?? code;
    const closes = this.state.stats.gateway_closes;
    closes[effective] = (closes[effective] ?? 0) + 1;
    const s = conn.session;
    if (!s || s.conn !== conn) return;
    s.conn = null;
    const invalidate = conn.serverClose ? conn.serverClose.invalidate : (code === 1000 || code === 1001);
    if (invalidate) {
      this.invalidateSession(s);
    } else {
      s.resumableUntil = Date.now() + this.opts.resumeWindowMs;
    }
    this.log(`connection ${conn.id} closed (${effective}); session ${s.id} ${invalidate ? 'invalidated' : 'resumable'}`);
  }

  onGatewayMessage(conn, data, isBinary) {
    if (conn.closed || conn.serverClose) return;
    const buf = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    if (buf.length > this.opts.maxPayloadBytes) { this.closeConn(conn, 4002, 'Payload too large.'); return; }
    const now = Date.now();
    const { count, windowMs } = this.opts.gatewaySendLimit;
    conn.sends.push(now);
    while (conn.sends.length && conn.sends[0] <= now - windowMs) conn.sends.shift();
    if (conn.sends.length > count) { this.closeConn(conn, 4008); return; }
    let p;
    try { p = JSON.parse(buf.toString('utf8')); } catch { this.closeConn(conn, 4002); return; }
    void isBinary;
    if (!p || typeof p !== 'object' || !Number.isInteger(p.op)) { this.closeConn(conn, 4002); return; }
    switch (p.op) {
      case GatewayOp.HEARTBEAT:
        this.state.stats.heartbeats += 1;
        conn.lastHeartbeatAt = now;
        this.armHeartbeat(conn, this.opts.heartbeatIntervalMs * 1.5);
        this.send(conn, { op: GatewayOp.HEARTBEAT_ACK, d: null, s: null, t: null });
        return;
      case GatewayOp.IDENTIFY: this.onIdentify(conn, p.d); return;
      case GatewayOp.RESUME: this.onResume(conn, p.d); return;
      case GatewayOp.PRESENCE_UPDATE:
      case GatewayOp.VOICE_STATE_UPDATE:
      case GatewayOp.REQUEST_GUILD_MEMBERS:
        if (!conn.authed) { this.closeConn(conn, 4003); return; }
        if (p.op === GatewayOp.REQUEST_GUILD_MEMBERS) this.onRequestGuildMembers(conn, p.d);
        return;
      default:
        this.closeConn(conn, 4001);
    }
  }

  onIdentify(conn, d) {
    if (conn.authed) { this.closeConn(conn, 4005); return; }
    if (!d || typeof d !== 'object' || typeof d.token !== 'string' || d.intents === undefined || typeof d.properties !== 'object') {
      this.closeConn(conn, 4002, 'Invalid identify payload.');
      return;
    }
    if (d.token !== this.opts.botToken) { this.closeConn(conn, 4004); return; }
    const intents = d.intents;
    if (!Number.isInteger(intents) || intents < 0 || (intents & ~KNOWN_INTENTS) !== 0) { this.closeConn(conn, 4013); return; }
    if ((intents & PRIVILEGED_INTENTS & ~this.opts.allowedIntents) !== 0) { this.closeConn(conn, 4014); return; }
    let shard = [0, 1];
    if (d.shard !== undefined) {
      const ok = Array.isArray(d.shard) && d.shard.length === 2 && d.shard.every(Number.isInteger) && d.shard[1] >= 1 && d.shard[0] >= 0 && d.shard[0] < d.shard[1];
      if (!ok) { this.closeConn(conn, 4010); return; }
      shard = d.shard;
    }
    const now = Date.now();
    if (this.opts.enforceIdentifyConcurrency) {
      this.identifyTimes = (this.identifyTimes ?? []).filter((t) => t > now - 5000);
      if (this.identifyTimes.length >= this.opts.identifyConcurrency) {
        this.send(conn, { op: GatewayOp.INVALID_SESSION, d: false, s: null, t: null });
        return;
      }
      this.identifyTimes.push(now);
    }
    this.state.stats.identifies += 1;
    const session = {
      id: crypto.randomBytes(16).toString('hex'), intents, shard, seq: 0, events: [], conn, invalid: false,
      resumableUntil: Infinity, created_at_ms: now, properties: d.properties, asked_shard: d.shard !== undefined,
    };
    this.state.sessions.set(session.id, session);
    conn.session = session;
    conn.authed = true;
    const guildShard = this.shardOf(this.state.guild.id, shard[1]);
    const guilds = guildShard === shard[0] ? [{ id: this.state.guild.id, unavailable: true }] : [];
    const ready = {
      v: 10, user: clone(this.state.bot), user_settings: {}, guilds, session_id: session.id, session_type: 'normal',
      resume_gateway_url: this.gatewayUrl, application: { id: this.state.application.id, flags: this.state.application.flags },
      private_channels: [], relationships: [], presences: [], guild_join_requests: [], geo_ordered_rtc_regions: [],
      auth: {}, _trace: ['["gateway-emulator",{"micros":0}]'],
    };
    if (session.asked_shard) ready.shard = shard;
    this.dispatch(session, 'READY', ready, { buffer: false });
    if (guilds.length && (intents & Intents.GUILDS)) this.dispatch(session, 'GUILD_CREATE', this.guildObject({ full: true, intents }));
  }

  onResume(conn, d) {
    if (conn.authed) { this.closeConn(conn, 4005); return; }
    if (!d || typeof d !== 'object' || typeof d.token !== 'string' || typeof d.session_id !== 'string') {
      this.closeConn(conn, 4002, 'Invalid resume payload.');
      return;
    }
    if (d.token !== this.opts.botToken) { this.closeConn(conn, 4004); return; }
    const s = this.state.sessions.get(d.session_id);
    const now = Date.now();
    const alive = s && !s.invalid && (s.conn || s.resumableUntil >= now);
    const seq = d.seq ?? 0;
    const oldest = s?.events[0]?.s;
    if (!alive || (oldest !== undefined && oldest > seq + 1)) {
      if (s && !alive) this.invalidateSession(s);
      this.state.stats.failed_resumes += 1;
      this.send(conn, { op: GatewayOp.INVALID_SESSION, d: false, s: null, t: null });
      return;
    }
    if (!Number.isInteger(seq) || seq < 0 || seq > s.seq) { this.closeConn(conn, 4007); return; }
    if (s.conn && s.conn !== conn) {
      const old = s.conn;
      old.session = null;
      this.closeConn(old, 4000, 'Session resumed on another connection.');
    }
    s.conn = conn;
    s.resumableUntil = Infinity;
    conn.session = s;
    conn.authed = true;
    this.state.stats.resumes += 1;
    for (const ev of s.events) if (ev.s > seq) this.send(conn, ev);
    this.dispatch(s, 'RESUMED', { _trace: ['["gateway-emulator",{"micros":0}]'] }, { buffer: false });
  }

  onRequestGuildMembers(conn, d) {
    const s = conn.session;
    if (!d || d.guild_id !== this.state.guild.id || !s) return;
    let ids = [...this.state.members.keys()];
    if (Array.isArray(d.user_ids)) ids = ids.filter((id) => d.user_ids.includes(id));
    else if (typeof d.query === 'string' && d.query) ids = ids.filter((id) => this.user(id)?.username.toLowerCase().startsWith(d.query.toLowerCase()));
    else if (!(s.intents & Intents.GUILD_MEMBERS)) ids = [];
    if (d.limit) ids = ids.slice(0, d.limit);
    const notFound = Array.isArray(d.user_ids) ? d.user_ids.filter((id) => !this.state.members.has(id)) : [];
    this.dispatch(s, 'GUILD_MEMBERS_CHUNK', {
      guild_id: this.state.guild.id, members: ids.map((id) => this.memberObject(id)), chunk_index: 0, chunk_count: 1,
      not_found: notFound, ...(d.nonce ? { nonce: d.nonce } : {}),
    });
  }

  // ---- members -------------------------------------------------------------------------------

  memberUpdateDispatch(userId) {
    const m = this.memberObject(userId);
    if (!m) return;
    this.dispatchToGuildOrDm(this.state.guild.id, 'GUILD_MEMBER_UPDATE', () => ({ guild_id: this.state.guild.id, ...clone(m) }),
      (s) => Boolean(s.intents & Intents.GUILD_MEMBERS));
  }

  // ---- REST --------------------------------------------------------------------------------

  buildRoutes() {
    const wh = { auth: false, globalExempt: true, major: (p) => `${p.application_id}/${p.token}` };
    return [
      route('GET', '/gateway', () => ({ url: this.gatewayUrl }), { auth: false }),
      route('GET', '/gateway/bot', () => this.gatewayBot()),
      route('GET', '/users/@me', () => clone(this.state.bot)),
      route('GET', '/users/@me/guilds', () => [{ id: this.state.guild.id, name: this.state.guild.name, icon: null, banner: null, owner: false, permissions: Permissions.ALL.toString(), features: [] }]),
      route('POST', '/users/@me/channels', (c) => this.openDm(c)),
      route('GET', '/users/{user_id}', ({ params }) => clone(this.user(params.user_id) ?? (() => { throw unknown('User', 10013); })())),
      route('GET', '/channels/{channel_id}', ({ params }) => this.channelObject(this.channelOr404(params.channel_id))),
      route('GET', '/channels/{channel_id}/messages', (c) => this.listMessages(c)),
      route('POST', '/channels/{channel_id}/messages', (c) => this.postMessage(c)),
      route('GET', '/channels/{channel_id}/messages/{message_id}', ({ params }) => clone(this.channelMessage(params).message)),
      route('PATCH', '/channels/{channel_id}/messages/{message_id}', (c) => this.patchChannelMessage(c)),
      route('DELETE', '/channels/{channel_id}/messages/{message_id}', (c) => this.deleteChannelMessage(c)),
      route('GET', '/guilds/{guild_id}', ({ params, query }) => {
        this.guildOr404(params.guild_id);
        const g = this.guildObject({ full: false });
        if (query.get('with_counts') === 'true') Object.assign(g, { approximate_member_count: this.state.members.size, approximate_presence_count: 0 });
        return g;
      }),
      route('GET', '/guilds/{guild_id}/channels', ({ params }) => { this.guildOr404(params.guild_id); return [...this.state.channels.values()].filter((c) => c.guild_id).map(clone); }),
      route('GET', '/guilds/{guild_id}/roles', ({ params }) => { this.guildOr404(params.guild_id); return this.rolesList(); }),
      route('GET', '/guilds/{guild_id}/members', (c) => this.listMembers(c)),
      route('GET', '/guilds/{guild_id}/members/{user_id}', ({ params }) => {
        this.guildOr404(params.guild_id);
        return this.memberObject(params.user_id) ?? (() => { throw unknown('Member', 10007); })();
      }),
      route('PUT', '/guilds/{guild_id}/members/{user_id}/roles/{role_id}', (c) => this.memberRole(c, true)),
      route('DELETE', '/guilds/{guild_id}/members/{user_id}/roles/{role_id}', (c) => this.memberRole(c, false),
        { bucket: 'PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}' }),
      route('GET', '/applications/@me', () => ({
        id: this.state.application.id, name: this.opts.botUsername, icon: null, description: '', bot_public: false,
        bot_require_code_grant: false, flags: this.state.application.flags, bot: clone(this.state.bot), verify_key: '0'.repeat(64),
        team: null, owner: clone(this.user(this.state.guild.owner_id) ?? this.state.bot),
      })),
      route('GET', '/applications/{application_id}/commands', (c) => this.getCommands(c, 'global')),
      route('PUT', '/applications/{application_id}/commands', (c) => this.putCommands(c, 'global')),
      route('GET', '/applications/{application_id}/guilds/{guild_id}/commands', (c) => this.getCommands(c, c.params.guild_id)),
      route('PUT', '/applications/{application_id}/guilds/{guild_id}/commands', (c) => this.putCommands(c, c.params.guild_id)),
      route('POST', '/interactions/{interaction_id}/{interaction_token}/callback', (c) => this.interactionCallback(c),
        { auth: false, globalExempt: true, major: (p) => p.interaction_id }),
      route('POST', '/webhooks/{application_id}/{token}', (c) => this.followup(c), wh),
      route('GET', '/webhooks/{application_id}/{token}/messages/{message_id}', (c) => clone(this.webhookMessage(c).message), wh),
      route('PATCH', '/webhooks/{application_id}/{token}/messages/{message_id}', (c) => this.patchWebhookMessage(c), wh),
      route('DELETE', '/webhooks/{application_id}/{token}/messages/{message_id}', (c) => this.deleteWebhookMessage(c), wh),
    ];
  }

  gatewayBot() {
    const used = this.state.stats.identifies;
    return {
      url: this.gatewayUrl,
      shards: this.opts.shards,
      session_start_limit: {
        total: this.opts.sessionStartTotal,
        remaining: Math.max(0, this.opts.sessionStartTotal - used),
        reset_after: Math.max(1, 86400000 - (Date.now() - this.startedAt)),
        max_concurrency: this.opts.identifyConcurrency,
      },
    };
  }

  guildOr404(id) { if (id !== this.state.guild.id) throw unknown('Guild', 10004); }

  channelOr404(id) {
    const c = this.state.channels.get(id);
    if (!c) throw unknown('Channel', 10003);
    return c;
  }

  channelMessage(params) {
    this.channelOr404(params.channel_id);
    const rec = this.state.messagesById.get(params.message_id);
    if (!rec || rec.deleted || rec.ephemeral || rec.channel_id !== params.channel_id) throw unknown('Message', 10008);
    return rec;
  }

  openDm({ body }) {
    const rid = body?.recipient_id;
    if (!isSnowflake(String(rid ?? ''))) throw formError({ recipient_id: fieldError(rid === undefined ? 'BASE_TYPE_REQUIRED' : 'NUMBER_TYPE_COERCE', rid === undefined ? 'This field is required' : `Value "${rid}" is not snowflake.`) });
    if (!this.user(String(rid))) throw unknown('User', 10013);
    return this.channelObject(this.dmChannelFor(String(rid)));
  }

  postMessage({ params, body, files }) {
    const channel = this.channelOr404(params.channel_id);
    body = validateMessageBody(body, { create: true, files });
    const botId = this.state.bot.id;
    if (channel.type === 1) {
      if (this.state.dmClosed.has(channel.recipient_id)) throw new ApiError(403, 50007, 'Cannot send messages to this user');
      if (!this.state.members.has(channel.recipient_id)) throw new ApiError(403, 50278, 'Cannot send messages to this user due to having no mutual guilds');
    }
    if (body.enforce_nonce === true && body.nonce !== undefined && body.nonce !== null) {
      const since = Date.now() - this.opts.nonceWindowMs;
      const prior = this.state.messages.find((r) => r.channel_id === channel.id && r.author_id === botId && r.nonce !== null
        && String(r.nonce) === String(body.nonce) && r.created_at_ms >= since && !r.deleted);
      if (prior) return clone(prior.message);
    }
    const flags = Number(body.flags ?? 0) & (MessageFlags.SUPPRESS_EMBEDS | MessageFlags.SUPPRESS_NOTIFICATIONS);
    const rec = this.createMessage({ channel, authorId: botId, body: { ...body, flags }, files });
    return clone(rec.message);
  }

  listMessages({ params, query }) {
    const channel = this.channelOr404(params.channel_id);
    const limit = query.has('limit') ? Number(query.get('limit')) : 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw formError({ limit: fieldError('NUMBER_TYPE_MAX', 'int value should be between 1 and 100.') });
    let recs = this.state.messages.filter((r) => r.channel_id === channel.id && !r.deleted && !r.ephemeral);
    const before = query.get('before');
    const after = query.get('after');
    for (const [k, v] of [['before', before], ['after', after]]) {
      if (v && !isSnowflake(v)) throw formError({ [k]: fieldError('NUMBER_TYPE_COERCE', `Value "${v}" is not snowflake.`) });
    }
    if (before) recs = recs.filter((r) => BigInt(r.id) < BigInt(before));
    if (after) recs = recs.filter((r) => BigInt(r.id) > BigInt(after));
    recs.sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    if (after) recs = recs.slice(-limit);
    else recs = recs.slice(0, limit);
    return recs.map((r) => clone(r.message));
  }

  patchChannelMessage({ params, body }) {
    const rec = this.channelMessage(params);
    if (rec.author_id !== this.state.bot.id) throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
    body = validateMessageBody(body, {});
    return clone(this.editMessage(rec, body).message);
  }

  deleteChannelMessage({ params }) {
    const rec = this.channelMessage(params);
    this.deleteMessage(rec);
    return { status: 204 };
  }

  listMembers({ params, query }) {
    this.guildOr404(params.guild_id);
    if (!(this.opts.allowedIntents & Intents.GUILD_MEMBERS)) throw new ApiError(403, 50001, 'Missing Access');
    const limit = query.has('limit') ? Number(query.get('limit')) : 1;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw formError({ limit: fieldError('NUMBER_TYPE_MAX', 'int value should be between 1 and 1000.') });
    const afterRaw = query.get('after') || '0';
    if (!/^\d{1,20}$/.test(afterRaw)) throw formError({ after: fieldError('NUMBER_TYPE_COERCE', `Value "${afterRaw}" is not snowflake.`) });
    const after = BigInt(afterRaw);
    const ids = [...this.state.members.keys()].filter((id) => BigInt(id) > after).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    return ids.slice(0, limit).map((id) => this.memberObject(id));
  }

  memberRole({ params, req }, add) {
    this.guildOr404(params.guild_id);
    const m = this.state.members.get(params.user_id);
    if (!m) throw unknown('Member', 10007);
    const role = this.state.roles.get(params.role_id);
    if (!role || role.id === this.state.guild.id) throw unknown('Role', 10011);
    if (role.managed || role.position >= this.highestRolePosition(this.state.bot.id)) throw new ApiError(403, 50013, 'Missing Permissions');
    const has = m.roles.includes(role.id);
    if (add && !has) m.roles.push(role.id);
    if (!add && has) m.roles = m.roles.filter((r) => r !== role.id);
    const reason = req.headers['x-audit-log-reason'];
    this.state.auditLog.push({ action: add ? 'member_role_add' : 'member_role_remove', user_id: m.user_id, role_id: role.id, changed: add !== has, reason: reason ? decodeURIComponent(reason) : null, at_ms: Date.now() });
    if (add !== has) this.memberUpdateDispatch(m.user_id);
    return { status: 204 };
  }

  // ---- commands ----------------------------------------------------------------------------

  appOr403(appId) { if (appId !== this.state.application.id) throw new ApiError(403, 50001, 'Missing Access'); }

  getCommands({ params }, scope) {
    this.appOr403(params.application_id);
    if (scope !== 'global') this.guildOr404(scope);
    return clone(this.state.commands.get(scope) ?? []);
  }

  putCommands({ params, body }, scope) {
    this.appOr403(params.application_id);
    if (scope !== 'global') this.guildOr404(scope);
    if (!Array.isArray(body)) throw formError({ _errors: [{ code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }] });
    const errors = {};
    const nameRe = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
    body.forEach((c, i) => {
      const e = {};
      const type = c?.type ?? 1;
      if (typeof c?.name !== 'string' || !(type === 1 ? nameRe.test(c.name) && c.name === c.name.toLowerCase() : c.name.length >= 1 && c.name.length <= 32)) {
        e.name = fieldError('APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
      }
      if (type === 1 && (typeof c?.description !== 'string' || c.description.length < 1 || c.description.length > 100)) {
        e.description = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
      }
      if (Array.isArray(c?.options) && c.options.length > 25) e.options = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      if (Object.keys(e).length) errors[i] = e;
    });
    const names = body.map((c) => `${c?.type ?? 1}:${c?.name}`);
    if (new Set(names).size !== names.length) errors._errors = [{ code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: 'Application command names must be unique' }];
    if (body.length > 100) errors._errors = [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' }];
    if (Object.keys(errors).length) throw formError(errors);
    const old = new Map((this.state.commands.get(scope) ?? []).map((c) => [`${c.type}:${c.name}`, c]));
    const list = body.map((c) => {
      const type = c.type ?? 1;
      const prev = old.get(`${type}:${c.name}`);
      return {
        id: prev?.id ?? snowflake(), application_id: this.state.application.id, version: snowflake(), type,
        name: c.name, name_localizations: c.name_localizations ?? null, description: c.description ?? '',
        description_localizations: c.description_localizations ?? null,
        default_member_permissions: c.default_member_permissions ?? null, dm_permission: c.dm_permission ?? true,
        nsfw: c.nsfw ?? false, contexts: c.contexts ?? null, integration_types: c.integration_types ?? [0],
        ...(scope !== 'global' ? { guild_id: scope } : {}), ...(c.options ? { options: clone(c.options) } : {}),
      };
    });
    this.state.commands.set(scope, list);
    return clone(list);
  }

  // ---- interactions --------------------------------------------------------------------------

  interactionRecord(id, token) {
    const rec = this.state.interactions.get(id);
    if (!rec || rec.token !== token) throw new ApiError(404, 10062, 'Unknown interaction');
    return rec;
  }

  interactionCallback({ params, body, query, files }) {
    const rec = this.interactionRecord(params.interaction_id, params.interaction_token);
    if (rec.initial_response) throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    if (Date.now() - rec.created_at_ms > this.opts.interactionDeadlineMs) throw new ApiError(404, 10062, 'Unknown interaction');
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw formError({ type: fieldError('BASE_TYPE_REQUIRED', 'This field is required') });
    const allowed = { 1: [1], 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 4: [8], 5: [4, 5, 6, 7] }[rec.type] ?? [4, 5];
    const type = body.type;
    if (![1, 4, 5, 6, 7, 8, 9].includes(type)) throw formError({ type: fieldError('BASE_TYPE_CHOICES', 'Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}.') });
    if (!allowed.includes(type)) throw formError({ type: fieldError('BASE_TYPE_CHOICES', `Value must be one of {${allowed.join(', ')}}.`) });
    const data = body.data ?? {};
    const now = Date.now();
    let message = null;
    if (type === 4) {
      validateMessageBody(data, { create: true, files });
      message = this.createInteractionMessage(rec, data, files, false);
      rec.original = message;
    } else if (type === 5) {
      validateMessageBody(data, {});
      if (data.flags !== undefined && (Number(data.flags) & ~MessageFlags.EPHEMERAL)) {
        throw formError({ data: { flags: fieldError('INTERACTION_RESPONSE_FLAGS_INVALID', 'Only EPHEMERAL is allowed for a deferred response.') } });
      }
      message = this.createInteractionMessage(rec, { content: '', flags: Number(data.flags ?? 0) | MessageFlags.LOADING }, [], false);
      rec.original = message;
    } else if (type === 7 && rec.source_message_id) {
      validateMessageBody(data, {});
      const src = this.state.messagesById.get(rec.source_message_id);
      if (src) { this.editMessage(src, data); message = src; }
    }
    rec.initial_response = { type, data: clone(body.data ?? null) };
    rec.responded_at_ms = now;
    if (query.get('with_response') !== 'true') return { status: 204 };
    return {
      interaction: {
        id: rec.id, type: rec.type, activity_instance_id: null,
        ...(message ? { response_message_id: message.id, response_message_loading: Boolean(message.message.flags & MessageFlags.LOADING), response_message_ephemeral: message.ephemeral } : {}),
      },
      resource: { type, ...(message ? { message: clone(message.message) } : {}) },
    };
  }

  createInteractionMessage(rec, data, files, followup) {
    const channel = this.state.channels.get(rec.channel_id);
    const user = this.user(rec.user_id);
    const meta = {
      id: rec.id, type: rec.type, user: clone(user), authorizing_integration_owners: clone(rec.payload.authorizing_integration_owners),
      ...(rec.type === 2 ? { name: rec.name, command_type: 1 } : {}),
    };
    const extra = {
      webhook_id: this.state.application.id, application_id: this.state.application.id, interaction_metadata: meta,
      ...(followup ? {} : { interaction: { id: rec.id, type: rec.type, name: rec.name, user: clone(user) } }),
    };
    const flags = Number(data.flags ?? 0) & (MessageFlags.EPHEMERAL | MessageFlags.LOADING | MessageFlags.SUPPRESS_EMBEDS);
    return this.createMessage({
      channel, authorId: this.state.bot.id, body: { ...data, flags, nonce: undefined }, files,
      type: rec.type === 2 ? 20 : 0, extra, interactionId: rec.id,
    });
  }

  webhookInteraction({ params }) {
    if (params.application_id !== this.state.application.id) throw new ApiError(404, 10015, 'Unknown Webhook');
    const rec = this.state.interactionsByToken.get(params.token);
    if (!rec) throw new ApiError(404, 10015, 'Unknown Webhook');
    if (Date.now() - rec.created_at_ms > this.opts.interactionTokenTtlMs) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    return rec;
  }

  webhookMessage(c) {
    const rec = this.webhookInteraction(c);
    const mid = c.params.message_id;
    const msg = mid === '@original' ? rec.original : rec.followups.find((m) => m.id === mid);
    if (!msg || msg.deleted) throw unknown('Message', 10008);
    return msg;
  }

  followup({ params, body, files }) {
    const rec = this.webhookInteraction({ params });
    if (!rec.initial_response) throw new ApiError(404, 10015, 'Unknown Webhook');
    body = validateMessageBody(body, { create: true, files });
    // After a deferred (type 5) response, the first follow-up edits the loading message.
    if (rec.original && !rec.original.deleted && (rec.original.message.flags & MessageFlags.LOADING)) {
      const { flags, ...rest } = body;
      void flags;
      return clone(this.editMessage(rec.original, rest).message);
    }
    const msg = this.createInteractionMessage(rec, body, files, true);
    rec.followups.push(msg);
    return clone(msg.message);
  }

  patchWebhookMessage(c) {
    const msg = this.webhookMessage(c);
    const body = validateMessageBody(c.body, {});
    return clone(this.editMessage(msg, body).message);
  }

  deleteWebhookMessage(c) {
    const msg = this.webhookMessage(c);
    this.deleteMessage(msg);
    return { status: 204 };
  }

  // ---- HTTP plumbing ---------------------------------------------------------------------------

  async onRequest(req, res) {
    const url = new URL(req.url, 'http://emulator');
    try {
      if (url.pathname.startsWith('/api/v10/') || url.pathname === '/api/v10') {
        await this.onRest(req, res, url);
      } else if (url.pathname.startsWith('/control/') || url.pathname === '/control') {
        await this.onControl(req, res, url);
      } else {
        this.respond(res, 404, { message: '404: Not Found', code: 0 });
      }
    } catch (err) {
      if (err instanceof ApiError) { this.respond(res, err.status, err.body()); return; }
      console.error('[discord-emulator] internal error', err); // eslint-disable-line no-console
      if (!res.headersSent) this.respond(res, 500, { message: '500: Internal Server Error', code: 0 });
    }
  }

  respond(res, status, body, headers = {}) {
    if (res.headersSent) return;
    if (status === 204 || body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  findRoute(method, segs) {
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchTemplate(r, segs);
      if (!params) continue;
      pathMatched = true;
      if (r.method === method) return { r, params };
    }
    return pathMatched ? { methodNotAllowed: true } : null;
  }

  async onRest(req, res, url) {
    const st = this.state.stats;
    const now = Date.now();
    st.requests += 1;
    if (!req.headers['user-agent']) st.missing_user_agent += 1;
    const segs = url.pathname.slice('/api/v10'.length).split('/').filter(Boolean);
    const rawBody = await readBody(req);
    const found = this.findRoute(req.method, segs);
    const logEntry = { method: req.method, path: url.pathname.slice('/api/v10'.length) + url.search, route: null, status: 0, at_ms: now, user_agent: req.headers['user-agent'] ?? null };
    const finish = (status, body, headers) => {
      logEntry.status = status;
      st.by_status[status] = (st.by_status[status] ?? 0) + 1;
      if (status === 401 || status === 403 || status === 429) {
        st.invalid_requests += 1;
        if (this.opts.invalidRequestLogging) console.error(`[discord-emulator] invalid request ${status} ${req.method} ${logEntry.path} ${body?.code ?? ''} ${body?.message ?? ''}`); // eslint-disable-line no-console
      }
      this.state.requestLog.push(logEntry);
      if (this.state.requestLog.length > this.opts.requestLogSize) this.state.requestLog.shift();
      this.respond(res, status, body, headers);
    };
    if (!found) { finish(404, { message: '404: Not Found', code: 0 }); return; }
    if (found.methodNotAllowed) { finish(405, { message: '405: Method Not Allowed', code: 0 }); return; }
    const { r, params } = found;
    const routeKey = `${r.method} ${r.template}`;
    logEntry.route = routeKey;
    st.by_route[routeKey] = (st.by_route[routeKey] ?? 0) + 1;
    const major = r.major(params);
    const rlHeaders = (info) => ({
      'X-RateLimit-Limit': String(info.limit),
      'X-RateLimit-Remaining': String(info.remaining),
      'X-RateLimit-Reset': (info.resetAt / 1000).toFixed(3),
      'X-RateLimit-Reset-After': (Math.max(0, info.resetAt - now) / 1000).toFixed(3),
      'X-RateLimit-Bucket': info.hash,
    });

    if (r.auth && req.headers.authorization !== `Bot ${this.opts.botToken}`) {
      finish(401, { message: '401: Unauthorized', code: 0 }, rlHeaders(this.limiter.route(r.bucket, major, now, false)));
      return;
    }
    if (r.auth && !r.globalExempt) {
      const g = this.limiter.takeGlobal(this.opts.botToken, now);
      if (!g.ok) {
        const retry = Math.max(0.001, (g.resetAt - now) / 1000);
        st.rate_limited_429 += 1;
        st.global_429 += 1;
        finish(429, { message: 'You are being rate limited.', retry_after: Number(retry.toFixed(3)), global: true }, {
          ...rlHeaders(this.limiter.route(r.bucket, major, now, false)),
          'Retry-After': String(Math.ceil(retry)), 'X-RateLimit-Global': 'true', 'X-RateLimit-Scope': 'global',
        });
        return;
      }
    }
    const info = this.limiter.route(r.bucket, major, now, true);
    if (!info.ok) {
      const retry = Math.max(0.001, (info.resetAt - now) / 1000);
      st.rate_limited_429 += 1;
      finish(429, { message: 'You are being rate limited.', retry_after: Number(retry.toFixed(3)), global: false }, {
        ...rlHeaders(info), 'Retry-After': String(Math.ceil(retry)), 'X-RateLimit-Scope': 'user',
      });
      return;
    }
    const headers = rlHeaders(info);
    try {
      const parsed = ['POST', 'PUT', 'PATCH'].includes(req.method) ? parseRequestBody(rawBody, req.headers['content-type']) : { body: undefined, files: [] };
      const out = await r.handler({ req, params, query: url.searchParams, body: parsed.body, files: parsed.files });
      if (out && typeof out === 'object' && !Array.isArray(out) && out.status === 204 && Object.keys(out).length === 1) finish(204, undefined, headers);
      else finish(200, out, headers);
    } catch (err) {
      if (err instanceof ApiError) { finish(err.status, err.body(), headers); return; }
      throw err;
    }
  }

  // ---- control API -----------------------------------------------------------------------------

  buildControlRoutes() {
    const c = (method, template, handler) => ({ method, segments: template.split('/').filter(Boolean), handler });
    return [
      c('GET', '/health', () => ({ ok: true })),
      c('GET', '/state', () => this.stateDump()),
      c('GET', '/stats', () => clone(this.state.stats)),
      c('GET', '/requests', ({ query }) => this.state.requestLog.filter((e) => (!query.get('route') || e.route === query.get('route')))),
      c('POST', '/interactions', ({ body }) => this.controlCreateInteraction(body)),
      c('GET', '/interactions', () => [...this.state.interactions.values()].map((r) => this.interactionView(r))),
      c('GET', '/interactions/{id}', ({ params }) => {
        const r = this.state.interactions.get(params.id);
        if (!r) throw new ApiError(404, 0, 'no such interaction');
        return this.interactionView(r);
      }),
      c('POST', '/members', ({ body }) => this.controlAddMember(body)),
      c('DELETE', '/members/{id}', ({ params }) => this.controlRemoveMember(params.id)),
      c('POST', '/members/{id}/roles', ({ params, body }) => this.controlSetRoles(params.id, body)),
      c('POST', '/dm-closed/{id}', ({ params, body }) => {
        if (body?.closed === false) this.state.dmClosed.delete(params.id); else this.state.dmClosed.add(params.id);
        return { user_id: params.id, closed: this.state.dmClosed.has(params.id) };
      }),
      c('POST', '/messages', ({ body }) => this.controlUserMessage(body)),
      c('GET', '/messages', ({ query }) => this.controlMessages(query)),
      c('POST', '/drop', () => {
        const n = this.conns.size;
        for (const conn of [...this.conns]) conn.ws.terminate();
        return { dropped: n };
      }),
      c('POST', '/reconnect', () => this.broadcastAuthed({ op: GatewayOp.RECONNECT, d: null, s: null, t: null })),
      c('POST', '/request-heartbeat', () => {
        let n = 0;
        for (const conn of this.conns) {
          if (conn.serverClose) continue;
          this.send(conn, { op: GatewayOp.HEARTBEAT, d: null, s: null, t: null });
          this.armHeartbeat(conn, this.opts.heartbeatRequestTimeoutMs);
          n += 1;
        }
        return { sent: n };
      }),
      c('POST', '/invalid-session', ({ body }) => {
        const resumable = Boolean(body?.resumable);
        let n = 0;
        for (const conn of [...this.conns]) {
          if (!conn.authed || conn.serverClose) continue;
          const s = conn.session;
          this.send(conn, { op: GatewayOp.INVALID_SESSION, d: resumable, s: null, t: null });
          conn.authed = false;
          conn.session = null;
          if (s) {
            s.conn = null;
            if (resumable) s.resumableUntil = Date.now() + this.opts.resumeWindowMs;
            else this.invalidateSession(s);
          }
          n += 1;
        }
        return { sent: n, resumable };
      }),
      c('POST', '/limits', ({ body }) => {
        if (body?.globalPerSecond !== undefined) this.opts.globalPerSecond = Number(body.globalPerSecond);
        if (body?.routeLimits) this.opts.routeLimits = { ...this.opts.routeLimits, ...body.routeLimits };
        this.limiter.reset();
        return { globalPerSecond: this.opts.globalPerSecond, routeLimits: this.opts.routeLimits };
      }),
    ];
  }

  broadcastAuthed(payload) {
    let n = 0;
    for (const conn of this.conns) if (conn.authed && !conn.serverClose) { this.send(conn, payload); n += 1; }
    return { sent: n };
  }

  async onControl(req, res, url) {
    this.state.stats.control_requests += 1;
    const segs = url.pathname.slice('/control'.length).split('/').filter(Boolean).map(decodeURIComponent);
    const raw = await readBody(req);
    let body;
    if (raw.length) {
      try { body = JSON.parse(raw.toString('utf8')); } catch { this.respond(res, 400, { error: 'invalid JSON' }); return; }
    }
    for (const r of this.controlRoutes) {
      if (r.method !== req.method || r.segments.length !== segs.length) continue;
      const params = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i += 1) {
        if (r.segments[i].startsWith('{')) params[r.segments[i].slice(1, -1)] = segs[i];
        else ok = r.segments[i] === segs[i];
      }
      if (!ok) continue;
      try {
        this.respond(res, 200, await r.handler({ params, body, query: url.searchParams }));
      } catch (err) {
        if (err instanceof ApiError) { this.respond(res, err.status, { error: err.message }); return; }
        throw err;
      }
      return;
    }
    this.respond(res, 404, { error: `no control route ${req.method} ${url.pathname}` });
  }

  stateDump() {
    const s = this.state;
    return {
      application_id: s.application.id,
      bot: { id: s.bot.id, username: s.bot.username, token: this.opts.botToken },
      guild: { id: s.guild.id, name: s.guild.name, owner_id: s.guild.owner_id },
      roles: this.rolesList(),
      channels: [...s.channels.values()].map((c) => this.channelObject(c)),
      members: [...s.members.values()].map((m) => ({ id: m.user_id, username: this.user(m.user_id)?.username, nick: m.nick, roles: [...m.roles], joined_at: m.joined_at })),
      users: [...s.users.values()].map(clone),
      dm_closed: [...s.dmClosed],
      commands: Object.fromEntries([...s.commands.entries()].map(([k, v]) => [k, clone(v)])),
      sessions: [...s.sessions.values()].map((x) => ({ id: x.id, intents: x.intents, shard: x.shard, seq: x.seq, connected: Boolean(x.conn), resumable_until_ms: Number.isFinite(x.resumableUntil) ? x.resumableUntil : null })),
      connections: [...this.conns].map((c) => ({ id: c.id, authed: c.authed, session_id: c.session?.id ?? null, last_heartbeat_ms: c.lastHeartbeatAt })),
      audit_log: clone(s.auditLog),
      limits: { globalPerSecond: this.opts.globalPerSecond, routeLimits: this.opts.routeLimits },
    };
  }

  controlAddMember(body) {
    const id = String(body?.id ?? '');
    if (!isSnowflake(id)) throw new ApiError(400, 0, 'id must be a snowflake string');
    const existing = this.user(id);
    const user = existing ?? { id, discriminator: '0', public_flags: 0, flags: 0, banner: null, accent_color: null, avatar_decoration_data: null, collectibles: null, primary_guild: null };
    Object.assign(user, { username: body.username ?? user.username ?? `user${id.slice(-4)}`, global_name: body.global_name ?? user.global_name ?? null, avatar: body.avatar ?? user.avatar ?? null });
    this.state.users.set(id, user);
    const isNew = !this.state.members.has(id);
    if (body.member === false) return { id, member: false };
    this.state.members.set(id, { user_id: id, nick: body.nick ?? null, roles: (body.roles ?? []).map(String), joined_at: body.joined_at ?? iso(Date.now()) });
    const t = isNew ? 'GUILD_MEMBER_ADD' : 'GUILD_MEMBER_UPDATE';
    this.dispatchToGuildOrDm(this.state.guild.id, t, () => ({ guild_id: this.state.guild.id, ...this.memberObject(id) }), (s) => Boolean(s.intents & Intents.GUILD_MEMBERS));
    return { id, member: true, added: isNew };
  }

  controlRemoveMember(id) {
    if (!this.state.members.has(id)) throw new ApiError(404, 0, 'not a member');
    this.state.members.delete(id);
    this.dispatchToGuildOrDm(this.state.guild.id, 'GUILD_MEMBER_REMOVE', () => ({ guild_id: this.state.guild.id, user: clone(this.user(id)) }), (s) => Boolean(s.intents & Intents.GUILD_MEMBERS));
    return { id, removed: true };
  }

  controlSetRoles(id, body) {
    const m = this.state.members.get(id);
    if (!m) throw new ApiError(404, 0, 'not a member');
    if (!Array.isArray(body?.roles)) throw new ApiError(400, 0, 'roles must be an array of role ids');
    const roles = body.roles.map(String);
    const unknownRoles = roles.filter((r) => !this.state.roles.has(r));
    if (unknownRoles.length) throw new ApiError(400, 0, `unknown roles: ${unknownRoles.join(',')}`);
    m.roles = [...new Set(roles)];
    if (body.nick !== undefined) m.nick = body.nick;
    this.memberUpdateDispatch(id);
    return { id, roles: [...m.roles] };
  }

  // A user (not the bot) writes a message: {author_id, content, channel_id} or, for a DM to the bot, {author_id, content} with dm:true.
  controlUserMessage(body) {
    const author = this.user(String(body?.author_id ?? ''));
    if (!author) throw new ApiError(400, 0, 'unknown author_id');
    const channel = body.channel_id ? this.state.channels.get(String(body.channel_id)) : this.dmChannelFor(author.id);
    if (!channel) throw new ApiError(400, 0, 'unknown channel_id');
    const rec = this.createMessage({ channel, authorId: author.id, body: { content: body.content ?? '', embeds: body.embeds ?? [] } });
    return this.messageView(rec);
  }

  messageView(r) {
    return {
      id: r.id, channel_id: r.channel_id, guild_id: r.guild_id, recipient_id: r.recipient_id, author_id: r.author_id,
      content: r.message.content, embeds: clone(r.message.embeds), components: clone(r.message.components), flags: r.message.flags,
      nonce: r.nonce, created_at_ms: r.created_at_ms, edited: r.edited, edited_at_ms: r.edited_at_ms, deleted: r.deleted,
      ephemeral: r.ephemeral, loading: Boolean(r.message.flags & MessageFlags.LOADING), interaction_id: r.interaction_id,
      attachments: r.message.attachments.map((a) => ({ filename: a.filename, size: a.size })),
    };
  }

  controlMessages(query) {
    return this.state.messages.filter((r) => (!query.get('channel_id') || r.channel_id === query.get('channel_id'))
      && (!query.get('author_id') || r.author_id === query.get('author_id'))
      && (!query.get('recipient_id') || r.recipient_id === query.get('recipient_id'))
      && (!query.get('interaction_id') || r.interaction_id === query.get('interaction_id'))).map((r) => this.messageView(r));
  }

  static optionList(options) {
    if (Array.isArray(options)) return clone(options);
    return Object.entries(options ?? {}).map(([name, v]) => {
      if (v && typeof v === 'object' && 'type' in v) return { name, ...clone(v) };
      let type = 3;
      if (typeof v === 'boolean') type = 5;
      else if (typeof v === 'number') type = Number.isInteger(v) ? 4 : 10;
      return { name, type, value: v };
    });
  }

  controlCreateInteraction(body) {
    const user = this.user(String(body?.user_id ?? ''));
    if (!user) throw new ApiError(400, 0, 'unknown user_id');
    const inGuild = body.guild_id !== null;
    if (inGuild && body.guild_id !== undefined && body.guild_id !== this.state.guild.id) throw new ApiError(400, 0, 'unknown guild_id');
    if (inGuild && !this.state.members.has(user.id)) throw new ApiError(400, 0, 'user is not a member of the guild');
    const type = body.type ?? 2;
    const channel = inGuild
      ? this.state.channels.get(String(body.channel_id ?? [...this.state.channels.keys()][0]))
      : this.dmChannelFor(user.id);
    if (!channel) throw new ApiError(400, 0, 'unknown channel_id');
    const id = snowflake();
    const token = Buffer.from(`interaction:${id}:${crypto.randomBytes(48).toString('base64url')}`).toString('base64url');
    const locale = body.locale ?? 'en-US';
    const scope = inGuild ? this.state.guild.id : 'global';
    const registered = [...(this.state.commands.get(scope) ?? []), ...(this.state.commands.get('global') ?? [])].find((c) => c.name === body.name);
    let data;
    if (type === 2) {
      if (typeof body.name !== 'string' || !body.name) throw new ApiError(400, 0, 'name is required');
      const options = DiscordEmulator.optionList(body.options);
      data = { id: body.command_id ?? registered?.id ?? this.stableCommandId(body.name), name: body.name, type: body.command_type ?? 1 };
      if (options.length) data.options = options;
      if (registered?.guild_id) data.guild_id = registered.guild_id;
      const resolved = {};
      for (const o of options) {
        if (o.type === 6 && this.user(String(o.value))) {
          (resolved.users ??= {})[o.value] = clone(this.user(String(o.value)));
          const mem = inGuild ? this.memberObject(String(o.value), { withUser: false }) : null;
          if (mem) (resolved.members ??= {})[o.value] = { ...mem, permissions: this.permissionsOf(o.value).toString() };
        }
      }
      if (Object.keys(resolved).length) data.resolved = resolved;
    } else if (type === 3) {
      data = { custom_id: String(body.custom_id ?? 'button'), component_type: body.component_type ?? 2, ...(body.values ? { values: body.values } : {}) };
    } else {
      throw new ApiError(400, 0, 'type must be 2 (application command) or 3 (message component)');
    }
    const payload = {
      id, application_id: this.state.application.id, type, data, token, version: 1, locale,
      app_permissions: inGuild ? this.permissionsOf(this.state.bot.id).toString() : '0',
      entitlements: [], authorizing_integration_owners: { 0: this.state.guild.id }, context: inGuild ? 0 : 1,
      attachment_size_limit: 10485760, channel_id: channel.id, channel: this.channelObject(channel),
    };
    if (inGuild) {
      payload.guild_id = this.state.guild.id;
      payload.guild = { id: this.state.guild.id, locale: 'en-US', features: [] };
      payload.guild_locale = body.guild_locale ?? 'en-US';
      payload.member = { ...this.memberObject(user.id), permissions: this.permissionsOf(user.id).toString() };
    } else {
      payload.user = clone(user);
    }
    if (type === 3) {
      const src = body.message_id ? this.state.messagesById.get(String(body.message_id)) : null;
      if (src) payload.message = clone(src.message);
    }
    const rec = {
      id, token, type, name: body.name ?? null, user_id: user.id, guild_id: inGuild ? this.state.guild.id : null,
      channel_id: channel.id, created_at_ms: Date.now(), initial_response: null, responded_at_ms: null, original: null,
      followups: [], payload, source_message_id: body.message_id ?? null,
    };
    this.state.interactions.set(id, rec);
    this.state.interactionsByToken.set(token, rec);
    const delivered = this.dispatchToGuildOrDm(rec.guild_id, 'INTERACTION_CREATE', () => clone(payload));
    return { id, token, delivered };
  }

  stableCommandId(name) {
    this.commandIds ??= new Map();
    if (!this.commandIds.has(name)) this.commandIds.set(name, snowflake());
    return this.commandIds.get(name);
  }

  interactionView(r) {
    const view = (m) => (m ? this.messageView(m) : null);
    return {
      id: r.id, token: r.token, type: r.type, name: r.name, user_id: r.user_id, guild_id: r.guild_id, channel_id: r.channel_id,
      created_at_ms: r.created_at_ms, initial_response: clone(r.initial_response), responded_at_ms: r.responded_at_ms,
      response_latency_ms: r.responded_at_ms === null ? null : r.responded_at_ms - r.created_at_ms,
      expired: r.initial_response === null && Date.now() - r.created_at_ms > this.opts.interactionDeadlineMs,
      original: view(r.original), followups: r.followups.map(view),
    };
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async listen() {
    this.server = http.createServer((req, res) => { void this.onRequest(req, res); });
    this.server.keepAliveTimeout = 5000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20, perMessageDeflate: false });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url, 'http://emulator');
      if (url.pathname !== '/gateway' && url.pathname !== '/gateway/') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onGatewayConnection(ws, url));
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, resolve);
    });
    this.port = this.server.address().port;
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    this.httpBase = `http://${host}:${this.port}`;
    this.gatewayUrl = `ws://${host}:${this.port}/gateway`;
  }

  async close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const conn of [...this.conns]) {
      if (conn.heartbeatTimer) clearTimeout(conn.heartbeatTimer);
      conn.ws.terminate();
    }
    this.wss?.close();
    if (this.server) {
      await new Promise((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections?.();
      });
    }
  }
}

/**
 * Starts the emulator. Resolves once it listens.
 * @returns {Promise<{apiBase:string, gatewayUrl:string, controlBase:string, port:number, state:object,
 *   botToken:string, applicationId:string, guildId:string, emulator:DiscordEmulator, close:() => Promise<void>}>}
 */
export async function startDiscordEmulator(options = {}) {
  const emu = new DiscordEmulator(options);
  await emu.listen();
  return {
    apiBase: `${emu.httpBase}/api/v10`,
    gatewayUrl: emu.gatewayUrl,
    controlBase: `${emu.httpBase}/control`,
    port: emu.port,
    state: emu.state,
    botToken: emu.opts.botToken,
    applicationId: emu.opts.applicationId,
    guildId: emu.opts.guildId,
    options: emu.opts,
    emulator: emu,
    close: () => emu.close(),
  };
}

export { DiscordEmulator, FIXTURES as DISCORD_FIXTURES };
