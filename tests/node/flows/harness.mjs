// Test harness for Pitwall's identity flows: the three OAuth peers (real oidc-provider servers) and
// the real pitwall-server binary, wired to each other on loopback; a cookie-keeping HTTP client that
// follows nothing on its own, so each hop of the redirect dance is visible to the test.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../../..');
export const binDir = process.env.PITWALL_TEST_BIN_DIR ?? path.join(repo, 'build/dev/bin');
export const fixtures = JSON.parse(fs.readFileSync(path.join(here, '../peers/fixtures.json'), 'utf8'));
export const tokenKey = 'test-token-key-with-at-least-32-bytes!!';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function waitForLine(child, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${seen}`)), timeoutMs);
    const onData = (chunk) => {
      seen += chunk.toString();
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { seen += c.toString(); });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}):\n${seen}`)));
  });
}

export async function startPeers() {
  const child = spawn(process.execPath, [path.join(here, '../peers/oauth-peers.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /^(\{.*"control".*\})$/m, 20000, 'oauth peers');
  const urls = JSON.parse(m[1]);
  return { urls, child, stop: () => child.kill('SIGTERM') };
}

// pitwall-server configured against the peers. `extra` adds or overrides PITWALL_* variables.
export async function startPitwall(peers, extra = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitwall-flows-'));
  await fetch(`${peers.urls.control}/redirect-base`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ base }) });
  const { discord, iracing, garage61 } = peers.urls;
  const env = {
    PATH: process.env.PATH,
    PITWALL_HTTP_LISTEN: `127.0.0.1:${port}`,
    PITWALL_HTTP_PUBLIC_URL: base,
    PITWALL_DATA_DIR: dataDir,
    PITWALL_LOG_LEVEL: 'warn',
    PITWALL_AUTH_PROVIDER_TIMEOUT_S: '2',
    PITWALL_SECRETS_TOKEN_KEY: tokenKey,
    PITWALL_DISCORD_CLIENT_ID: fixtures.discord.client_id,
    PITWALL_DISCORD_CLIENT_SECRET: fixtures.discord.client_secret,
    PITWALL_DISCORD_AUTHORIZE_URL: `${discord}/oauth2/authorize`,
    PITWALL_DISCORD_TOKEN_URL: `${discord}/api/oauth2/token`,
    PITWALL_DISCORD_API_BASE: `${discord}/api/v10`,
    PITWALL_DISCORD_GUILD_ID: fixtures.discord.guild_id,
    PITWALL_IRACING_CLIENT_ID: fixtures.iracing.client_id,
    PITWALL_IRACING_CLIENT_SECRET: fixtures.iracing.client_secret,
    PITWALL_IRACING_AUTHORIZE_URL: `${iracing}/oauth2/authorize`,
    PITWALL_IRACING_TOKEN_URL: `${iracing}/oauth2/token`,
    PITWALL_IRACING_PROFILE_URL: `${iracing}/oauth2/iracing/profile`,
    PITWALL_IRACING_REVOKE_URL: `${iracing}/oauth2/revoke/current`,
    PITWALL_GARAGE61_CLIENT_ID: fixtures.garage61.client_id,
    PITWALL_GARAGE61_CLIENT_SECRET: fixtures.garage61.client_secret,
    PITWALL_GARAGE61_ISSUER: garage61,
    PITWALL_GARAGE61_API_BASE: `${garage61}/api/v1`,
    ...extra,
  };
  const child = spawn(path.join(binDir, 'pitwall-server'), [], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /running at http/, 30000, 'pitwall-server');
  const database = path.join(dataDir, 'pitwall.db');
  return {
    base,
    child,
    dataDir,
    // Reads the SQLite file the server writes (the sqlite3 CLI; WAL readers see committed data).
    sql(query) {
      const out = execFileSync('sqlite3', ['-json', database, query], { encoding: 'utf8' });
      return out.trim() ? JSON.parse(out) : [];
    },
    cli(...args) {
      return execFileSync(path.join(binDir, 'pitwall'), args, { cwd: repo, env, encoding: 'utf8' });
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A browser without JavaScript: keeps cookies per origin, never follows redirects by itself.
export class Browser {
  constructor(acceptLanguage = 'en') {
    this.jar = new Map();  // origin -> Map(name -> value)
    this.acceptLanguage = acceptLanguage;
  }

  cookies(origin) {
    if (!this.jar.has(origin)) this.jar.set(origin, new Map());
    return this.jar.get(origin);
  }

  cookie(origin, name) { return this.cookies(origin).get(name); }

  async request(url, { method = 'GET', form, headers = {} } = {}) {
    const u = new URL(url);
    const jar = this.cookies(u.origin);
    const h = { 'accept-language': this.acceptLanguage, accept: 'text/html', ...headers };
    if (jar.size) h.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') jar.delete(name); else jar.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, text, setCookies: res.headers.getSetCookie() };
  }

  // Follows redirects hop by hop (absolute or relative), answering a provider's login form as `user`.
  async follow(start, user, { maxHops = 12 } = {}) {
    let res = start;
    let url = start.url;
    for (let hop = 0; hop < maxHops; hop++) {
      if (res.status >= 300 && res.status < 400 && res.location) {
        url = new URL(res.location, url).toString();
        res = await this.request(url);
        continue;
      }
      const form = /<form method="post" action="(\/interaction\/[^"]+\/login)">/.exec(res.text);
      if (res.status === 200 && form && user) {
        url = new URL(form[1], url).toString();
        res = await this.request(url, { method: 'POST', form: { user } });
        continue;
      }
      return { ...res, url };
    }
    throw new Error('too many redirects');
  }

  csrfFrom(html) {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    return m ? m[1] : '';
  }
}

// Signs `user` in through Discord; returns the final response (the page after sign-in).
export async function signIn(browser, pitwall, user) {
  const start = await browser.request(`${pitwall.base}/auth/discord/login`);
  start.url = `${pitwall.base}/auth/discord/login`;
  return browser.follow(start, user);
}

// Links iRacing or Garage61 for the signed-in browser.
export async function link(browser, pitwall, provider, user) {
  const profile = await browser.request(`${pitwall.base}/profile`);
  const csrf = browser.csrfFrom(profile.text);
  const start = await browser.request(`${pitwall.base}/profile/accounts/${provider}/link`, { method: 'POST', form: { _csrf: csrf } });
  start.url = `${pitwall.base}/profile/accounts/${provider}/link`;
  return browser.follow(start, user);
}

export async function setMode(peers, provider, mode, extra = {}) {
  const res = await fetch(`${peers.urls.control}/mode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider, mode, ...extra }) });
  if (!res.ok) throw new Error(`mode ${provider}/${mode}: ${res.status}`);
}
