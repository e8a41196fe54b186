// Self-check of peers/oauth-peers.mjs: starts it as a child process and drives every provider
// with plain fetch (manual redirects, a tiny cookie jar), as Pitwall's C++ tests will.
// Run: npm test (in tests/node), or node --test peers/oauth-peers.test.mjs

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

import {
  createRemoteJWKSet, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, errors as joseErrors,
} from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = JSON.parse(fs.readFileSync(path.join(here, 'fixtures.json'), 'utf8'));
const BASE = 'http://127.0.0.1:18080'; // nothing listens there: the dance stops at the redirect
const RUNTIME_BASE = 'http://127.0.0.1:18081';

let child;
let urls;
let stderr = '';

before(async () => {
  child = spawn(process.execPath, [path.join(here, 'oauth-peers.mjs'), '--redirect-base', BASE], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (d) => { stderr += d; });
  let out = '';
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peers did not start:\n${stderr}`)), 10_000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) { clearTimeout(timer); resolve(out.slice(0, nl)); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`peers exited (${code}):\n${stderr}`)); });
  });
  urls = JSON.parse(line);
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

// ---------------------------------------------------------------------------------------------
// A tiny cookie jar (name/value/path per host; ports ignored, as in browsers) and an HTTP client
// that never follows redirects by itself.

class Jar {
  constructor() { this.cookies = new Map(); }

  store(url, res) {
    const { hostname } = new URL(url);
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cpath = '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v] = a.split('=');
        if (k.toLowerCase() === 'path') cpath = v;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const key = `${hostname}|${cpath}|${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { hostname, path: cpath, name, value });
    }
  }

  header(url) {
    const { hostname, pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter((c) => c.hostname === hostname && (pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

async function request(jar, url, init = {}) {
  const headers = new Headers(init.headers || {});
  const cookie = jar?.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar?.store(url, res);
  return res;
}

// Follows the dance from an authorize URL to Pitwall's redirect URI. `login`: a test user to
// pick on the HTML form (when login_hint is not used). Returns the final redirect URL.
async function authorize(authorizeUrl, { login, jar = new Jar(), expectForm } = {}) {
  let url = authorizeUrl;
  let sawForm = false;
  for (let hops = 0; hops < 12; hops += 1) {
    if (url.startsWith(BASE) || url.startsWith(RUNTIME_BASE)) {
      if (expectForm !== undefined) assert.equal(sawForm, expectForm, 'login form shown?');
      return new URL(url);
    }
    const res = await request(jar, url); // eslint-disable-line no-await-in-loop
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location'), url).href;
      continue; // eslint-disable-line no-continue
    }
    const html = await res.text(); // eslint-disable-line no-await-in-loop
    assert.equal(res.status, 200, `unexpected ${res.status} at ${url}: ${html.slice(0, 400)}`);
    const form = /<form method="post" action="([^"]+)"/.exec(html);
    assert.ok(form, `no login form at ${url}: ${html.slice(0, 400)}`);
    assert.ok(html.includes(`name="user" value="${login}"`), `form lacks a button for ${login}`);
    assert.ok(!/<script/i.test(html), 'the login page must not need JavaScript');
    sawForm = true;
    const post = await request(jar, new URL(form[1], url).href, { // eslint-disable-line no-await-in-loop
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: login }).toString(),
    });
    assert.equal(post.status, 303);
    url = new URL(post.headers.get('location'), url).href;
  }
  throw new Error('too many redirects');
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function mask(secret, id) {
  return crypto.createHash('sha256').update(secret + id.trim().toLowerCase()).digest('base64');
}

async function postForm(url, form, headers = {}, init = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    ...init,
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body, headers: res.headers };
}

async function getJson(url, token) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body, headers: res.headers };
}

async function controlPost(p, body) {
  const res = await fetch(`${urls.control}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  return { status: res.status, body: await res.json() };
}

const authUrl = (origin, p, params) => `${origin}${p}?${new URLSearchParams(params)}`;
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

// ---------------------------------------------------------------------------------------------

test('ready line names four loopback origins', () => {
  assert.deepEqual(Object.keys(urls), ['discord', 'iracing', 'garage61', 'control']);
  for (const u of Object.values(urls)) assert.match(u, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(new Set(Object.values(urls)).size, 4);
});

describe('discord', () => {
  const d = fixtures.discord;
  const redirectUri = `${BASE}/auth/discord/callback`;
  const token = (form, auth = 'post') => postForm(`${urls.discord}/api/oauth2/token`,
    auth === 'post' ? { ...form, client_id: d.client_id, client_secret: d.client_secret } : form,
    auth === 'basic' ? { authorization: basic(d.client_id, d.client_secret) } : {});

  test('code flow via the login form, PKCE S256, client_secret_basic; users/@me and guild member', async () => {
    const { verifier, challenge } = pkce();
    const back = await authorize(authUrl(urls.discord, '/oauth2/authorize', {
      response_type: 'code', client_id: d.client_id, scope: 'identify guilds guilds.members.read',
      state: 'st-1', redirect_uri: redirectUri, prompt: 'consent', code_challenge: challenge, code_challenge_method: 'S256',
    }), { login: 'owner1', expectForm: true });
    assert.equal(back.searchParams.get('state'), 'st-1');
    assert.equal(back.searchParams.get('iss'), null); // Discord sends no RFC 9207 iss
    const code = back.searchParams.get('code');
    assert.ok(code);
    const t = await token({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
    }, 'basic');
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(t.body.token_type, 'Bearer');
    assert.equal(t.body.expires_in, 604800);
    assert.equal(t.body.scope, 'identify guilds guilds.members.read');
    assert.ok(t.body.refresh_token);
    assert.equal(t.body.id_token, undefined);

    const me = await getJson(`${urls.discord}/api/v10/users/@me`, t.body.access_token);
    assert.equal(me.status, 200);
    const u = d.users.owner1;
    assert.deepEqual(
      { id: me.body.id, username: me.body.username, global_name: me.body.global_name, avatar: me.body.avatar, discriminator: me.body.discriminator },
      { id: u.id, username: u.username, global_name: u.global_name, avatar: u.avatar, discriminator: '0' },
    );
    const member = await getJson(`${urls.discord}/api/v10/users/@me/guilds/${d.guild_id}/member`, t.body.access_token);
    assert.equal(member.status, 200);
    assert.equal(member.body.user.id, u.id);
    assert.equal(member.body.nick, u.member.nick);
    assert.notEqual(member.body.nick, u.global_name);
    assert.ok(member.body.roles.includes(d.roles.Owner));
    assert.equal(member.body.joined_at, u.member.joined_at);

    const other = await getJson(`${urls.discord}/api/v10/users/@me/guilds/800000000000000999/member`, t.body.access_token);
    assert.deepEqual([other.status, other.body], [404, { message: 'Unknown Guild', code: 10004 }]);

    // Refresh (client_secret_post on the versioned path), then revoke.
    const r = await postForm(`${urls.discord}/api/v10/oauth2/token`, {
      grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: d.client_id, client_secret: d.client_secret,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.notEqual(r.body.access_token, t.body.access_token);
    const rv = await postForm(`${urls.discord}/api/oauth2/token/revoke`, {
      token: r.body.access_token, token_type_hint: 'access_token', client_id: d.client_id, client_secret: d.client_secret,
    });
    assert.equal(rv.status, 200);
    assert.equal((await getJson(`${urls.discord}/api/v10/users/@me`, r.body.access_token)).status, 401);
  });

  test('login_hint skips the form; guest1 is not in the guild; no PKCE is accepted', async () => {
    const back = await authorize(authUrl(urls.discord, '/oauth2/authorize', {
      response_type: 'code', client_id: d.client_id, scope: 'identify guilds.members.read',
      state: 'st-2', redirect_uri: redirectUri, login_hint: 'guest1',
    }), { expectForm: false });
    const t = await token({ grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: redirectUri });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const me = await getJson(`${urls.discord}/api/users/@me`, t.body.access_token);
    assert.equal(me.body.id, d.users.guest1.id);
    const member = await getJson(`${urls.discord}/api/v10/users/@me/guilds/${d.guild_id}/member`, t.body.access_token);
    assert.deepEqual([member.status, member.body], [404, { message: 'Unknown Guild', code: 10004 }]);
  });

  test('one cookie jar, two users in a row: each authorization logs in whoever it names', async () => {
    const jar = new Jar();
    const ids = [];
    for (const login of ['admin1', 'member1']) {
      const back = await authorize(authUrl(urls.discord, '/oauth2/authorize', { // eslint-disable-line no-await-in-loop
        response_type: 'code', client_id: d.client_id, scope: 'identify', state: 's', redirect_uri: redirectUri, login_hint: login,
      }), { jar });
      const t = await token({ grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: redirectUri }); // eslint-disable-line no-await-in-loop
      ids.push((await getJson(`${urls.discord}/api/v10/users/@me`, t.body.access_token)).body.id); // eslint-disable-line no-await-in-loop
    }
    assert.deepEqual(ids, [d.users.admin1.id, d.users.member1.id]);
    // With a session cookie in the jar, the form still appears when no login_hint is given.
    const back = await authorize(authUrl(urls.discord, '/oauth2/authorize', {
      response_type: 'code', client_id: d.client_id, scope: 'identify', state: 's', redirect_uri: redirectUri,
    }), { jar, login: 'owner1', expectForm: true });
    assert.ok(back.searchParams.get('code'));
  });

  test('errors: no token 401, missing scope 403, wrong secret invalid_client, unknown user access_denied', async () => {
    const none = await getJson(`${urls.discord}/api/v10/users/@me`);
    assert.deepEqual([none.status, none.body], [401, { message: '401: Unauthorized', code: 0 }]);
    const back = await authorize(authUrl(urls.discord, '/oauth2/authorize', {
      response_type: 'code', client_id: d.client_id, scope: 'identify', state: 's', redirect_uri: redirectUri, login_hint: 'member1',
    }));
    const t = await token({ grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: redirectUri });
    const m = await getJson(`${urls.discord}/api/v10/users/@me/guilds/${d.guild_id}/member`, t.body.access_token);
    assert.deepEqual([m.status, m.body], [403, { message: 'Missing Access', code: 50001 }]);

    const back2 = await authorize(authUrl(urls.discord, '/oauth2/authorize', {
      response_type: 'code', client_id: d.client_id, scope: 'identify', state: 's', redirect_uri: redirectUri, login_hint: 'member1',
    }));
    const bad = await postForm(`${urls.discord}/api/oauth2/token`, {
      grant_type: 'authorization_code', code: back2.searchParams.get('code'), redirect_uri: redirectUri, client_id: d.client_id, client_secret: 'nope',
    });
    assert.equal(bad.body.error, 'invalid_client');

    const denied = await authorize(authUrl(urls.discord, '/oauth2/authorize', {
      response_type: 'code', client_id: d.client_id, scope: 'identify', state: 's9', redirect_uri: redirectUri, login_hint: 'nobody',
    }));
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), 's9');
  });
});

describe('iracing', () => {
  const ir = fixtures.iracing;
  const redirectUri = `${BASE}/auth/iracing/callback`;
  const masked = mask(ir.client_secret, ir.client_id);
  const tokenUrl = () => `${urls.iracing}/oauth2/token`;

  async function code(login, { challenge, method = 'S256', scope = 'iracing.auth iracing.profile' } = {}) {
    const params = {
      client_id: ir.client_id, redirect_uri: redirectUri, response_type: 'code', state: 'ir-st', scope, login_hint: login,
    };
    if (challenge) Object.assign(params, { code_challenge: challenge, code_challenge_method: method });
    return authorize(authUrl(urls.iracing, '/oauth2/authorize', params));
  }

  test('PKCE code flow with the masked secret; token response and profile as in the reference', async () => {
    const { verifier, challenge } = pkce();
    const back = await code('owner1', { challenge });
    assert.equal(back.searchParams.get('state'), 'ir-st');
    assert.equal(back.searchParams.get('iss'), null);
    const t = await postForm(tokenUrl(), {
      grant_type: 'authorization_code', client_id: ir.client_id, client_secret: masked,
      code: back.searchParams.get('code'), redirect_uri: redirectUri, code_verifier: verifier,
    });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.deepEqual(Object.keys(t.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'scope', 'token_type']);
    assert.equal(t.body.token_type, 'bearer');
    assert.equal(t.body.expires_in, 600);
    assert.ok(t.body.refresh_token_expires_in > 3500 && t.body.refresh_token_expires_in <= 3600);
    assert.equal(t.body.scope, 'iracing.auth iracing.profile');
    const prof = await getJson(`${urls.iracing}/oauth2/iracing/profile`, t.body.access_token);
    assert.deepEqual([prof.status, prof.body], [200, { iracing_name: ir.users.owner1.name, iracing_cust_id: ir.users.owner1.cust_id }]);

    // Refresh tokens rotate and are single use.
    const r1 = await postForm(tokenUrl(), {
      grant_type: 'refresh_token', client_id: ir.client_id, client_secret: masked, refresh_token: t.body.refresh_token,
    });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.notEqual(r1.body.refresh_token, t.body.refresh_token);
    const again = await postForm(tokenUrl(), {
      grant_type: 'refresh_token', client_id: ir.client_id, client_secret: masked, refresh_token: t.body.refresh_token,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    assert.equal(again.body.error_uri, 'https://oauth.iracing.com/oauth2/book/errors.html');
    assert.equal(again.body.status, 400);
  });

  test('refuses: no PKCE, plain PKCE, unmasked secret, wrong verifier, replayed code', async () => {
    const noPkce = await code('member1');
    assert.equal(noPkce.searchParams.get('error'), 'invalid_request');
    assert.match(noPkce.searchParams.get('error_description'), /PKCE/);
    const plain = await code('member1', { challenge: 'a'.repeat(43), method: 'plain' });
    assert.equal(plain.searchParams.get('error'), 'invalid_request');

    const { verifier, challenge } = pkce();
    const back = await code('member1', { challenge });
    const c = back.searchParams.get('code');
    const form = {
      grant_type: 'authorization_code', client_id: ir.client_id, client_secret: masked, code: c, redirect_uri: redirectUri, code_verifier: verifier,
    };
    const unmasked = await postForm(tokenUrl(), { ...form, client_secret: ir.client_secret });
    assert.equal(unmasked.status, 403);
    assert.equal(unmasked.body.error, 'invalid_client');
    const wrongVerifier = await postForm(tokenUrl(), { ...form, code_verifier: pkce().verifier });
    assert.deepEqual([wrongVerifier.status, wrongVerifier.body.error], [400, 'invalid_grant']);

    // A failed exchange does not consume the code here; a second successful use is a replay.
    const { verifier: v2, challenge: c2 } = pkce();
    const back2 = await code('member1', { challenge: c2 });
    const form2 = { ...form, code: back2.searchParams.get('code'), code_verifier: v2 };
    const ok = await postForm(tokenUrl(), form2);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const replay = await postForm(tokenUrl(), form2);
    assert.deepEqual([replay.status, replay.body.error], [400, 'invalid_grant']);
    // ... and the replay revokes what the code had produced.
    assert.equal((await getJson(`${urls.iracing}/oauth2/iracing/profile`, ok.body.access_token)).status, 401);
  });

  test('profile needs iracing.profile; revoke/current ends the grant', async () => {
    const { verifier, challenge } = pkce();
    const back = await code('admin1', { challenge, scope: 'iracing.auth' });
    const t = await postForm(tokenUrl(), {
      grant_type: 'authorization_code', client_id: ir.client_id, client_secret: masked,
      code: back.searchParams.get('code'), redirect_uri: redirectUri, code_verifier: verifier,
    });
    assert.equal(t.body.scope, 'iracing.auth');
    const prof = await getJson(`${urls.iracing}/oauth2/iracing/profile`, t.body.access_token);
    assert.deepEqual([prof.status, prof.body.error], [403, 'insufficient_scope']);
    const rv = await fetch(`${urls.iracing}/oauth2/revoke/current`, { method: 'POST', headers: { authorization: `Bearer ${t.body.access_token}` } });
    assert.equal(rv.status, 200);
    const after = await fetch(`${urls.iracing}/oauth2/revoke/current`, { method: 'POST', headers: { authorization: `Bearer ${t.body.access_token}` } });
    assert.equal(after.status, 401);
    const r = await postForm(tokenUrl(), {
      grant_type: 'refresh_token', client_id: ir.client_id, client_secret: masked, refresh_token: t.body.refresh_token,
    });
    assert.equal(r.body.error, 'invalid_grant');
  });
});

describe('garage61', () => {
  const g = fixtures.garage61;
  const redirectUri = `${BASE}/auth/garage61/callback`;
  let discovery;
  let jwks;

  before(async () => {
    discovery = (await getJson(`${urls.garage61}/.well-known/openid-configuration`)).body;
    jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { cooldownDuration: 0 });
  });

  async function login(user, { form = false, redirect = redirectUri } = {}) {
    const { verifier, challenge } = pkce();
    const nonce = crypto.randomBytes(12).toString('base64url');
    const params = {
      response_type: 'code', client_id: g.client_id, redirect_uri: redirect, scope: 'openid profile email driving_data',
      state: 'g-st', nonce, code_challenge: challenge, code_challenge_method: 'S256',
    };
    if (!form) params.login_hint = user;
    const back = await authorize(`${discovery.authorization_endpoint}?${new URLSearchParams(params)}`, { login: user, expectForm: form });
    assert.equal(back.searchParams.get('state'), 'g-st');
    assert.equal(back.searchParams.get('iss'), discovery.issuer);
    const t = await postForm(discovery.token_endpoint, {
      grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: redirect,
      code_verifier: verifier, client_id: g.client_id, client_secret: g.client_secret,
    });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    return { tokens: t.body, nonce };
  }

  const verify = (idToken, keys = jwks) => jwtVerify(idToken, keys, { issuer: discovery.issuer, audience: g.client_id });

  test('discovery document', () => {
    assert.equal(discovery.issuer, urls.garage61);
    assert.equal(discovery.authorization_endpoint, `${urls.garage61}/app/account/oauth`);
    assert.equal(discovery.token_endpoint, `${urls.garage61}/api/oauth/token`);
    assert.equal(discovery.userinfo_endpoint, `${urls.garage61}/api/oauth/userinfo`);
    assert.equal(discovery.jwks_uri, `${urls.garage61}/api/oauth/jwks`);
    assert.deepEqual(discovery.id_token_signing_alg_values_supported.sort(), ['ES256', 'RS256']);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  });

  test('code flow (form) + id_token against JWKS + userinfo + /me + /me/accounts; slug in id_token', async () => {
    const { tokens, nonce } = await login('owner1', { form: true });
    const u = g.users.owner1;
    const { payload, protectedHeader } = await verify(tokens.id_token);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.nonce, nonce);
    assert.equal(payload.sub, u.id);
    assert.equal(payload.slug, u.slug);
    assert.equal(payload.preferred_username, undefined);
    const ui = await getJson(discovery.userinfo_endpoint, tokens.access_token);
    assert.equal(ui.status, 200);
    assert.equal(ui.body.sub, u.id);
    assert.equal(ui.body.preferred_username, u.slug);
    assert.equal(ui.body.given_name, u.firstName);
    const me = await getJson(`${urls.garage61}/api/v1/me`, tokens.access_token);
    assert.equal(me.status, 200);
    assert.ok(me.headers.get('x-g61-trace'));
    assert.deepEqual(
      { id: me.body.id, slug: me.body.slug, firstName: me.body.firstName, lastName: me.body.lastName, nickName: me.body.nickName, subscriptionPlan: me.body.subscriptionPlan, teams: me.body.teams },
      { id: u.id, slug: u.slug, firstName: u.firstName, lastName: u.lastName, nickName: u.nickName, subscriptionPlan: u.subscriptionPlan, teams: u.teams },
    );
    assert.deepEqual(me.body.apiPermissions, ['driving_data']);
    const acc = await getJson(`${urls.garage61}/api/v1/me/accounts`, tokens.access_token);
    assert.deepEqual(acc.body, { items: [{ platform: 'iracing', id: fixtures.iracing.users.owner1.cust_id, name: 'Olivia Owner' }], total: 1 });
    assert.ok(tokens.refresh_token);
  });

  test('slug chain: admin1 only in userinfo, member1 only in /me; PAT and 401 shapes', async () => {
    const a = await login('admin1');
    assert.equal((await verify(a.tokens.id_token)).payload.slug, undefined);
    assert.equal((await getJson(discovery.userinfo_endpoint, a.tokens.access_token)).body.preferred_username, g.users.admin1.slug);
    const m = await login('member1');
    assert.equal((await verify(m.tokens.id_token)).payload.slug, undefined);
    assert.equal((await getJson(discovery.userinfo_endpoint, m.tokens.access_token)).body.preferred_username, undefined);
    assert.equal((await getJson(`${urls.garage61}/api/v1/me`, m.tokens.access_token)).body.slug, g.users.member1.slug);
    const guest = await getJson(`${urls.garage61}/api/v1/me/accounts`, g.users.guest1.pat);
    assert.deepEqual(guest.body, { items: [], total: 0 });
    const none = await getJson(`${urls.garage61}/api/v1/me`);
    assert.equal(none.status, 401);
    assert.match(none.body.message, /^Missing authorization/);
    assert.equal(none.body.trace, none.headers.get('x-g61-trace'));
    const bad = await getJson(`${urls.garage61}/api/v1/me`, 'garbage');
    assert.equal(bad.status, 401);
    assert.match(bad.body.message, /^Bad authentication/);
  });

  describe('control modes', () => {
    const setMode = (provider, mode, extra = {}) => controlPost('/mode', { provider, mode, ...extra });
    after(() => controlPost('/reset'));

    test('wrong_nonce, wrong_aud, wrong_iss, expired: signature fine, claim wrong', async () => {
      await setMode('garage61', 'wrong_nonce');
      const n = await login('owner1');
      const { payload } = await verify(n.tokens.id_token);
      assert.notEqual(payload.nonce, n.nonce);

      await setMode('garage61', 'wrong_aud');
      const a = await login('owner1');
      await assert.rejects(verify(a.tokens.id_token), (e) => e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'aud');
      await jwtVerify(a.tokens.id_token, jwks); // the signature itself is valid

      await setMode('garage61', 'wrong_iss');
      const i = await login('owner1');
      await assert.rejects(verify(i.tokens.id_token), (e) => e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'iss');

      await setMode('garage61', 'expired');
      const x = await login('owner1');
      await assert.rejects(verify(x.tokens.id_token), joseErrors.JWTExpired);
    });

    test('forged: same kid, key not in JWKS', async () => {
      await setMode('garage61', 'forged');
      const f = await login('owner1');
      assert.equal(decodeProtectedHeader(f.tokens.id_token).kid, 'g61-rs-1');
      await assert.rejects(verify(f.tokens.id_token), joseErrors.JWSSignatureVerificationFailed);
    });

    test('rotate_keys: new kid, published in JWKS, found after a refetch', async () => {
      // A JWKS snapshot taken before the rotation lacks the new kid.
      const before = createLocalJWKSet((await getJson(discovery.jwks_uri)).body);
      await setMode('garage61', 'rotate_keys');
      const r = await login('owner1');
      const { kid } = decodeProtectedHeader(r.tokens.id_token);
      assert.match(kid, /^g61-rotated-/);
      await assert.rejects(verify(r.tokens.id_token, before), joseErrors.JWKSNoMatchingKey);
      const now = (await getJson(discovery.jwks_uri)).body.keys.map((k) => k.kid);
      assert.ok(now.includes(kid) && now.includes('g61-rs-1'));
      await verify(r.tokens.id_token); // remote set refetches on the unknown kid
      const calls = (await getJson(`${urls.control}/calls`)).body.garage61;
      assert.ok(calls.jwks >= 2);
    });

    test('es256: id_token signed with the ES256 key', async () => {
      await setMode('garage61', 'es256');
      const e = await login('owner1');
      const { protectedHeader } = await verify(e.tokens.id_token);
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(protectedHeader.kid, 'g61-es-1');
    });

    test('slow (30 s default; delay_ms) and server_error on the token endpoint; release by mode change', async () => {
      await setMode('iracing', 'slow');
      const started = Date.now();
      await assert.rejects(postForm(`${urls.iracing}/oauth2/token`, { grant_type: 'refresh_token' }, {}, { signal: AbortSignal.timeout(700) }), /TimeoutError|aborted/);
      assert.ok(Date.now() - started >= 650);
      // A held request is released by leaving slow mode (and by POST /reset).
      await setMode('discord', 'slow');
      const d = fixtures.discord;
      const held = postForm(`${urls.discord}/api/oauth2/token`, {
        grant_type: 'refresh_token', refresh_token: 'x', client_id: d.client_id, client_secret: d.client_secret,
      });
      await new Promise((r) => { setTimeout(r, 200); });
      const t0 = Date.now();
      await setMode('discord', 'normal');
      assert.equal((await held).body.error, 'invalid_grant');
      assert.ok(Date.now() - t0 < 1000);

      await setMode('garage61', 'slow', { delay_ms: 600 });
      const t1 = Date.now();
      const s = await postForm(discovery.token_endpoint, { grant_type: 'refresh_token', refresh_token: 'x', client_id: g.client_id, client_secret: g.client_secret });
      assert.ok(Date.now() - t1 >= 550);
      assert.equal(s.body.error, 'invalid_grant');

      await setMode('iracing', 'server_error');
      const e = await postForm(`${urls.iracing}/oauth2/token`, { grant_type: 'refresh_token' });
      assert.deepEqual([e.status, e.body.error], [500, 'server_error']);
      await setMode('iracing', 'normal');
    });

    test('bad control requests, calls, reset, runtime redirect base', async () => {
      assert.equal((await setMode('discord', 'forged')).status, 400);
      assert.equal((await setMode('nope', 'normal')).status, 400);
      const calls = (await getJson(`${urls.control}/calls`)).body;
      assert.ok(calls.discord.token >= 3 && calls.discord.users_me >= 2 && calls.discord.guild_member >= 2);
      assert.ok(calls.iracing.authorize >= 4 && calls.iracing.profile >= 2);
      assert.ok(calls.garage61.discovery >= 1 && calls.garage61.userinfo >= 1 && calls.garage61.me >= 1);
      await setMode('garage61', 'expired');
      assert.equal((await controlPost('/reset')).status, 200);
      const zero = (await getJson(`${urls.control}/calls`)).body;
      assert.deepEqual(zero, { discord: {}, iracing: {}, garage61: {} });
      assert.equal((await getJson(`${urls.control}/mode`)).body.garage61.mode, 'normal');
      // After reset the rotated key is gone from the JWKS.
      assert.deepEqual((await getJson(discovery.jwks_uri)).body.keys.map((k) => k.kid).sort(), ['g61-es-1', 'g61-rs-1']);

      // An unregistered redirect URI is refused (error page, no redirect) until its base is added.
      const params = {
        response_type: 'code', client_id: g.client_id, redirect_uri: `${RUNTIME_BASE}/auth/garage61/callback`, scope: 'openid', state: 's', nonce: 'n', login_hint: 'owner1',
      };
      const refused = await fetch(`${discovery.authorization_endpoint}?${new URLSearchParams(params)}`, { redirect: 'manual' });
      assert.equal(refused.status, 400);
      assert.equal((await controlPost('/redirect-base', { base: RUNTIME_BASE })).status, 200);
      const { tokens } = await login('owner1', { redirect: `${RUNTIME_BASE}/auth/garage61/callback` });
      assert.ok(decodeJwt(tokens.id_token).sub);
      // One refused authorize, then one login_hint dance and one code exchange since the reset.
      assert.deepEqual((await getJson(`${urls.control}/calls`)).body.garage61, {
        jwks: 1, authorize: 2, interaction: 1, authorize_resume: 1, token: 1,
      });
    });
  });
});

test('a second instance stops when its stdin pipe closes', async () => {
  const c = spawn(process.execPath, [path.join(here, 'oauth-peers.mjs')], { stdio: ['pipe', 'pipe', 'ignore'] });
  const [line] = await once(c.stdout, 'data');
  assert.match(String(line), /^\{"discord":/);
  c.stdin.end();
  const [code] = await once(c, 'exit');
  assert.equal(code, 0);
});

test('stops on SIGTERM', async () => {
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});
