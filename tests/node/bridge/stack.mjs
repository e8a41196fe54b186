// The whole Discord side on loopback: the Discord emulator (in this process), the real pitwall-server
// (demo data, SQLite) and the real pitwall-bot, wired to each other. Used by the bridge tests, the
// browser test of live registrations and the DM benchmark. Processes can be killed and restarted on
// the same data directory and port (what the end-to-end test does mid-stream).
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startDiscordEmulator } from '../discord/emulator.mjs';
import { Browser, binDir, freePort, repo, waitForLine } from '../flows/harness.mjs';

export { Browser, binDir, freePort, repo, waitForLine };
const here = path.dirname(fileURLToPath(import.meta.url));
export const bridgeSecret = 'bridge-test-secret-with-enough-entropy-0123456789';

// `count` guild members with snowflake ids (the emulator refuses DMs to users outside the guild).
export function memberIds(count, base = 300000000000000000n) {
  return Array.from({ length: count }, (_, i) => String(base + BigInt(i + 1)));
}

export async function startEmulator(options = {}) {
  const emu = await startDiscordEmulator({ heartbeatIntervalMs: 2000, ...options });
  const control = async (route, { method = 'GET', body } = {}) => {
    const res = await fetch(`${emu.controlBase}${route}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  };
  return { ...emu, control };
}

export class Stack {
  constructor(emulator, { extraEnv = {}, logLevel = 'warn' } = {}) {
    this.emulator = emulator;
    this.extraEnv = extraEnv;
    this.logLevel = logLevel;
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitwall-bridge-'));
    this.server = null;
    this.bot = null;
    this.logs = { server: '', bot: '' };
  }

  env() {
    return {
      PATH: process.env.PATH,
      PITWALL_DEMO: 'true',
      PITWALL_HTTP_LISTEN: `127.0.0.1:${this.port}`,
      PITWALL_HTTP_PUBLIC_URL: this.base,
      PITWALL_DATA_DIR: this.dataDir,
      PITWALL_LOG_LEVEL: this.logLevel,
      PITWALL_DISCORD_API_BASE: this.emulator.apiBase,
      PITWALL_DISCORD_GUILD_ID: this.emulator.guildId,
      PITWALL_DISCORD_BOT_TOKEN: this.emulator.botToken,
      PITWALL_DISCORD_RATE_LIMIT: '50',
      PITWALL_BOT_SERVER_URL: `ws://127.0.0.1:${this.port}/bridge`,
      PITWALL_BOT_APPLICATION_ID: this.emulator.applicationId,
      PITWALL_SECRETS_BRIDGE_SECRET: bridgeSecret,
      PITWALL_BRIDGE_HEARTBEAT_S: '1',
      PITWALL_DM_VISIBILITY_S: '5',
      PITWALL_DM_BACKOFF_BASE_S: '1',
      PITWALL_JOBS_DISCORD_ROLE_SYNC: 'off',
      ...this.extraEnv,
    };
  }

  async startServer() {
    if (!this.port) {
      this.port = await freePort();
      this.base = `http://127.0.0.1:${this.port}`;
    }
    const child = spawn(path.join(binDir, 'pitwall-server'), [], { cwd: repo, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.on('data', (c) => { this.logs.server += c.toString(); });
    await waitForLine(child, /running at http/, 30000, 'pitwall-server');
    this.server = child;
    return child;
  }

  async startBot() {
    const child = spawn(path.join(binDir, 'pitwall-bot'), [], { cwd: repo, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.on('data', (c) => { this.logs.bot += c.toString(); });
    await waitForLine(child, /pitwall-bot is running/, 20000, 'pitwall-bot');
    this.bot = child;
    await waitUntil(async () => (await this.botStatus())?.connected === true, 10000, 'bot connected to the bridge');
    return child;
  }

  static async stopChild(child, signal = 'SIGTERM') {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async killBot(signal = 'SIGKILL') {
    await Stack.stopChild(this.bot, signal);
    this.bot = null;
  }

  async stopServer(signal = 'SIGTERM') {
    await Stack.stopChild(this.server, signal);
    this.server = null;
  }

  async stop() {
    await this.killBot('SIGTERM');
    await this.stopServer();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  sql(query) {
    const out = execFileSync('sqlite3', ['-json', path.join(this.dataDir, 'pitwall.db'), query], { encoding: 'utf8' });
    return out.trim() ? JSON.parse(out) : [];
  }

  // Site accounts for Discord users (members of the guild), in one transaction. Returns their user ids.
  seedMembers(discordIds, { locale = null } = {}) {
    const values = discordIds
      .map((id, i) => `('${id}', 'member${i + 1}', 'member', 'member', 1, ${locale ? `'${locale}'` : 'NULL'}, 0, 0)`)
      .join(',\n');
    execFileSync('sqlite3', [path.join(this.dataDir, 'pitwall.db')], {
      input: `BEGIN; INSERT INTO users (discord_id, username, site_role, granted_role, guild_member, preferred_locale, created_at, updated_at) VALUES ${values}; COMMIT;`,
    });
    const rows = this.sql(`SELECT id, discord_id FROM users WHERE discord_id IN (${discordIds.map((id) => `'${id}'`).join(',')}) ORDER BY id`);
    return new Map(rows.map((r) => [r.discord_id, r.id]));
  }

  // A demo member's browser session (demo sign-in exists in demo mode on loopback).
  async signIn(role = 'admin') {
    const browser = new Browser();
    await browser.request(`${this.base}/`);
    const csrf = browser.cookie(this.base, 'pw_csrf');
    const res = await browser.request(`${this.base}/auth/demo`, { method: 'POST', form: { role, _csrf: csrf } });
    if (res.status !== 303) throw new Error(`demo sign-in: ${res.status}`);
    const page = await browser.request(`${this.base}/profile`);
    browser.csrf = browser.csrfFrom(page.text);
    return browser;
  }

  // A JSON request with the browser's cookies and CSRF token.
  async api(browser, route, { method = 'POST', body, headers = {} } = {}) {
    const jar = browser.cookies(this.base);
    const res = await fetch(`${this.base}${route}`, {
      method,
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': browser.csrf,
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) : null };
  }

  async botStatus() {
    try {
      if (!this.admin) this.admin = await this.signIn('admin');
      const res = await this.admin.request(`${this.base}/api/admin/bot`, { headers: { accept: 'application/json' } });
      return res.status === 200 ? JSON.parse(res.text) : null;
    } catch {
      return null;
    }
  }
}

export async function waitUntil(check, timeoutMs, what, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { here };
