// The three OAuth flows end to end: real authorization servers (oidc-provider), the real
// pitwall-server, a plain HTTP client doing the redirect dance. Each negative case ends with a
// localized error and nothing created: no session cookie, no link row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, fixtures, link, setMode, signIn, startPeers, startPitwall, tokenKey } from './harness.mjs';

let peers;
let pitwall;
const d = fixtures.discord;

before(async () => {
  peers = await startPeers();
  pitwall = await startPitwall(peers);
  // The first Owner comes from the CLI; the Admin role through the admin-editable mapping.
  pitwall.cli('user', 'grant', d.users.owner1.id, 'owner');
});

after(async () => {
  await pitwall?.stop();
  peers?.stop();
});

const userRow = (discordId) => pitwall.sql(`SELECT * FROM users WHERE discord_id = '${discordId}'`)[0];
const linkRows = (userId) => pitwall.sql(`SELECT * FROM linked_accounts WHERE user_id = ${userId} ORDER BY provider`);

test('Discord sign-in stores the member, shows the server nickname and maps the role', async () => {
  const browser = new Browser();
  const page = await signIn(browser, pitwall, 'owner1');
  assert.equal(page.status, 200, page.text.slice(0, 300));
  assert.ok(browser.cookie(new URL(pitwall.base).origin, 'pw_session'), 'a session cookie was set');
  const owner = userRow(d.users.owner1.id);
  assert.equal(owner.username, 'owner1');
  assert.equal(owner.global_name, d.users.owner1.global_name);
  assert.equal(owner.nickname, d.users.owner1.member.nick);
  assert.equal(owner.site_role, 'owner');
  assert.equal(owner.guild_member, 1);
  assert.match(page.text, new RegExp(d.users.owner1.member.nick.replace('|', '\\|')), 'the nickname is shown, not the global name');

  // The owner maps the Admin Discord role; admin1 then signs in as an admin.
  const csrf = browser.csrfFrom((await browser.request(`${pitwall.base}/profile`)).text);
  const put = await browser.request(`${pitwall.base}/api/admin/role-mappings/${d.roles.Admin}`, {
    method: 'PUT', headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, form: undefined,
  });
  assert.equal(put.status, 400, 'an empty body is refused with a clear error');
  const mapped = await fetch(`${pitwall.base}/api/admin/role-mappings/${d.roles.Admin}`, {
    method: 'PUT',
    headers: { cookie: `pw_session=${browser.cookie(new URL(pitwall.base).origin, 'pw_session')}`, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ site_role: 'admin', label: 'Admin' }),
  });
  assert.equal(mapped.status, 204);

  const adminBrowser = new Browser();
  await signIn(adminBrowser, pitwall, 'admin1');
  assert.equal(userRow(d.users.admin1.id).site_role, 'admin');
  const memberBrowser = new Browser();
  await signIn(memberBrowser, pitwall, 'member1');
  assert.equal(userRow(d.users.member1.id).site_role, 'member');
  const guestBrowser = new Browser();
  await signIn(guestBrowser, pitwall, 'guest1');
  const guest = userRow(d.users.guest1.id);
  assert.equal(guest.site_role, 'guest', 'not in the guild: a guest');
  assert.equal(guest.guild_member, 0);
  // A guest may not see the roster.
  assert.equal((await guestBrowser.request(`${pitwall.base}/members`, { headers: { accept: 'application/json' } })).status, 403);
  assert.equal((await memberBrowser.request(`${pitwall.base}/members`)).status, 200);
});

test('linking iRacing (PKCE, masked secret) and Garage61 (OIDC) stores encrypted tokens', async () => {
  const browser = new Browser();
  await signIn(browser, pitwall, 'member1');
  const me = userRow(d.users.member1.id);

  const ir = await link(browser, pitwall, 'iracing', 'member1');
  assert.equal(ir.status, 200, ir.text.slice(0, 400));
  const g61 = await link(browser, pitwall, 'garage61', 'member1');
  assert.equal(g61.status, 200, g61.text.slice(0, 400));

  const rows = linkRows(me.id);
  assert.equal(rows.length, 2);
  const [garage61, iracing] = rows;
  assert.equal(iracing.subject, String(fixtures.iracing.users.member1.cust_id), 'customer id captured');
  assert.equal(garage61.subject, String(fixtures.garage61.users.member1.id), '/me.id is the stable subject');
  assert.ok(garage61.slug.length > 0);
  assert.ok(['id_token', 'userinfo', 'me'].includes(garage61.slug_source));
  for (const row of rows) {
    assert.match(row.access_token, /^v1\./, 'tokens are ciphertexts');
    assert.ok(!row.access_token.includes(tokenKey));
    assert.ok(row.access_expires_at > Date.now());
  }

  // Refresh: a new access token (and a rotated refresh token) replaces the old ciphertexts.
  const profile = await browser.request(`${pitwall.base}/profile`);
  const csrf = browser.csrfFrom(profile.text);
  const refreshed = await browser.request(`${pitwall.base}/profile/accounts/iracing/refresh`, { method: 'POST', form: { _csrf: csrf } });
  assert.equal(refreshed.status, 303, refreshed.text.slice(0, 300));
  const after1 = linkRows(me.id).find((r) => r.provider === 'iracing');
  assert.notEqual(after1.access_token, iracing.access_token);
  assert.notEqual(after1.refresh_token, iracing.refresh_token);
  const again = await browser.request(`${pitwall.base}/profile/accounts/iracing/refresh`, { method: 'POST', form: { _csrf: csrf } });
  assert.equal(again.status, 303, 'the rotated refresh token was stored and works');

  // Unlink revokes and deletes.
  const unlinked = await browser.request(`${pitwall.base}/profile/accounts/iracing/unlink`, { method: 'POST', form: { _csrf: csrf } });
  assert.equal(unlinked.status, 303);
  assert.deepEqual(linkRows(me.id).map((r) => r.provider), ['garage61']);
  const calls = await (await fetch(`${peers.urls.control}/calls`)).json();
  assert.ok(Object.values(calls.iracing).reduce((a, b) => a + b, 0) > 0);
});

test('a forged state is refused with a localized 400 and no session', async () => {
  for (const provider of ['discord', 'iracing', 'garage61']) {
    const browser = new Browser('tr');
    const res = await browser.request(`${pitwall.base}/auth/${provider}/callback?code=x&state=forged`);
    assert.equal(res.status, 400, provider);
    assert.match(res.text, /<html lang="tr">/);
    assert.match(res.text, /Bu giriş bağlantısı geçersiz/);
    assert.ok(!res.setCookies.some((c) => c.startsWith('pw_session=')), 'no session cookie');
  }
});

test('a replayed callback is refused', async () => {
  const browser = new Browser();
  const start = await browser.request(`${pitwall.base}/auth/discord/login`);
  // Walk to the provider's redirect back to us, but do not follow it yet.
  let res = await browser.request(start.location);
  let url = start.location;
  while (!(res.status >= 300 && res.location && res.location.startsWith(pitwall.base))) {
    const form = /<form method="post" action="(\/interaction\/[^"]+\/login)">/.exec(res.text);
    if (form) { url = new URL(form[1], url).toString(); res = await browser.request(url, { method: 'POST', form: { user: 'member1' } }); continue; }
    url = new URL(res.location, url).toString();
    res = await browser.request(url);
  }
  const callback = res.location;
  const first = await browser.request(callback);
  assert.equal(first.status, 303);
  const replay = await new Browser().request(callback);
  assert.equal(replay.status, 400);
  const sameBrowserReplay = await browser.request(callback);
  assert.equal(sameBrowserReplay.status, 400);
});

test('a code redeemed with another attempt\'s PKCE verifier is refused by the provider', async () => {
  const browser = new Browser();
  const a = await browser.request(`${pitwall.base}/auth/discord/login?next=/a`);
  const b = await browser.request(`${pitwall.base}/auth/discord/login?next=/b`);
  const stateB = new URL(b.location).searchParams.get('state');
  // Get a code for attempt A.
  let res = await browser.request(a.location);
  let url = a.location;
  while (!(res.status >= 300 && res.location && res.location.startsWith(pitwall.base))) {
    const form = /<form method="post" action="(\/interaction\/[^"]+\/login)">/.exec(res.text);
    if (form) { url = new URL(form[1], url).toString(); res = await browser.request(url, { method: 'POST', form: { user: 'member1' } }); continue; }
    url = new URL(res.location, url).toString();
    res = await browser.request(url);
  }
  const code = new URL(res.location).searchParams.get('code');
  // Present A's code with B's state (this browser's current binder): Pitwall sends B's verifier.
  const mixed = await browser.request(`${pitwall.base}/auth/discord/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(stateB)}`);
  assert.equal(mixed.status, 400, mixed.text.slice(0, 300));
  assert.ok(!mixed.setCookies.some((c) => c.startsWith('pw_session=')));
});

for (const [mode, status] of [['wrong_nonce', 401], ['wrong_aud', 401], ['expired', 401], ['forged', 401]]) {
  test(`Garage61 id_token check: ${mode} creates no link`, async () => {
    const browser = new Browser();
    await signIn(browser, pitwall, 'admin1');
    const me = userRow(d.users.admin1.id);
    await setMode(peers, 'garage61', mode);
    try {
      const res = await link(browser, pitwall, 'garage61', 'admin1');
      assert.equal(res.status, status, res.text.slice(0, 300));
      assert.match(res.text, /class="error-status"/);
      assert.equal(linkRows(me.id).filter((r) => r.provider === 'garage61').length, 0);
    } finally {
      await setMode(peers, 'garage61', 'normal');
    }
  });
}

test('Garage61 signing key rotation: the JWKS is fetched again on an unknown kid', async () => {
  const browser = new Browser();
  await signIn(browser, pitwall, 'owner1');
  const me = userRow(d.users.owner1.id);
  await link(browser, pitwall, 'garage61', 'owner1');  // caches the JWKS
  await setMode(peers, 'garage61', 'rotate_keys');
  try {
    const csrf = browser.csrfFrom((await browser.request(`${pitwall.base}/profile`)).text);
    await browser.request(`${pitwall.base}/profile/accounts/garage61/unlink`, { method: 'POST', form: { _csrf: csrf } });
    const res = await link(browser, pitwall, 'garage61', 'owner1');
    assert.equal(res.status, 200, res.text.slice(0, 300));
    assert.equal(linkRows(me.id).filter((r) => r.provider === 'garage61').length, 1);
  } finally {
    await setMode(peers, 'garage61', 'normal');
  }
});

test('a tampered session cookie is not a session', async () => {
  const browser = new Browser();
  await signIn(browser, pitwall, 'member1');
  const origin = new URL(pitwall.base).origin;
  const real = browser.cookie(origin, 'pw_session');
  const tampered = (real[0] === 'A' ? 'B' : 'A') + real.slice(1);
  browser.cookies(origin).set('pw_session', tampered);
  const res = await browser.request(`${pitwall.base}/profile`, { headers: { accept: 'application/json' } });
  assert.equal(res.status, 401);
});

test('a provider that times out gives a localized 503 and no session', async () => {
  await setMode(peers, 'discord', 'slow', { delay_ms: 10000 });
  try {
    const browser = new Browser('tr');
    const started = Date.now();
    const res = await signIn(browser, pitwall, 'member1');
    assert.equal(res.status, 503, res.text.slice(0, 300));
    assert.ok(Date.now() - started < 9000, 'the provider timeout (2 s here) bounds the wait');
    assert.match(res.text, /zamanında yanıt vermedi/);
    assert.ok(!browser.cookie(new URL(pitwall.base).origin, 'pw_session'));
  } finally {
    await setMode(peers, 'discord', 'normal');
  }
});

test('sign-out deletes the session on the server', async () => {
  const browser = new Browser();
  await signIn(browser, pitwall, 'member1');
  const origin = new URL(pitwall.base).origin;
  const session = browser.cookie(origin, 'pw_session');
  const csrf = browser.csrfFrom((await browser.request(`${pitwall.base}/profile`)).text);
  const out = await browser.request(`${pitwall.base}/sign-out`, { method: 'POST', form: { _csrf: csrf } });
  assert.equal(out.status, 303);
  // Replaying the old cookie does not work: the session is gone server-side.
  const replay = await fetch(`${pitwall.base}/profile`, { headers: { cookie: `pw_session=${session}`, accept: 'application/json' }, redirect: 'manual' });
  assert.equal(replay.status, 401);
});

test('a form without the CSRF token is refused', async () => {
  const browser = new Browser();
  await signIn(browser, pitwall, 'member1');
  const res = await browser.request(`${pitwall.base}/profile/time-zone`, { method: 'POST', form: { time_zone: 'Europe/Istanbul' } });
  assert.equal(res.status, 403);
  const csrf = browser.csrfFrom((await browser.request(`${pitwall.base}/profile`)).text);
  const ok = await browser.request(`${pitwall.base}/profile/time-zone`, { method: 'POST', form: { time_zone: 'Europe/Istanbul', _csrf: csrf } });
  assert.equal(ok.status, 303);
  assert.equal(userRow(d.users.member1.id).time_zone, 'Europe/Istanbul');
});
