// Shared plumbing for the three authorization servers in oauth-peers.mjs: oidc-provider
// configuration, a per-provider in-memory adapter, the no-JS login page, bearer look-ups and
// the mutable test state (modes, call counters) that the control API changes.

import * as crypto from 'node:crypto';

import { interactionPolicy } from 'oidc-provider';

// ---------------------------------------------------------------------------------------------
// Test state shared with the control API

export const PROVIDERS = ['discord', 'iracing', 'garage61'];
export const COMMON_MODES = ['normal', 'slow', 'server_error'];
export const ID_TOKEN_MODES = ['wrong_nonce', 'wrong_aud', 'wrong_iss', 'expired', 'forged', 'rotate_keys', 'es256'];
export const DEFAULT_SLOW_MS = 30_000;

export class PeerState {
  constructor() {
    this.modes = {};
    this.calls = {};
    this.redirectBases = new Set();
    this.sleepers = new Set();
    this.resetHooks = [];
    this.reset();
  }

  reset() {
    for (const p of PROVIDERS) {
      this.modes[p] = { mode: 'normal' };
      this.calls[p] = {};
    }
    this.wakeSleepers();
    for (const hook of this.resetHooks) hook();
  }

  setMode(provider, mode, options = {}) {
    if (!PROVIDERS.includes(provider)) throw new Error(`unknown provider "${provider}"`);
    const allowed = provider === 'garage61' ? [...COMMON_MODES, ...ID_TOKEN_MODES] : COMMON_MODES;
    if (!allowed.includes(mode)) {
      throw new Error(`mode "${mode}" is not available for ${provider} (one of: ${allowed.join(', ')})`);
    }
    const entry = { mode };
    if (mode === 'slow') {
      const delay = options.delay_ms ?? DEFAULT_SLOW_MS;
      if (!Number.isFinite(delay) || delay < 0 || delay > 600_000) throw new Error('delay_ms must be 0..600000');
      entry.delay_ms = delay;
    }
    // Leaving "slow" releases requests that are still waiting.
    if (this.modes[provider].mode === 'slow' && mode !== 'slow') this.wakeSleepers(provider);
    this.modes[provider] = entry;
    return entry;
  }

  mode(provider) {
    return this.modes[provider];
  }

  count(provider, endpoint) {
    const c = this.calls[provider];
    c[endpoint] = (c[endpoint] || 0) + 1;
  }

  // A delay that POST /reset or a mode change cuts short, and that never keeps the process alive.
  sleep(provider, ms) {
    return new Promise((resolve) => {
      const entry = { provider, resolve: () => { clearTimeout(entry.timer); this.sleepers.delete(entry); resolve(); } };
      entry.timer = setTimeout(entry.resolve, ms);
      entry.timer.unref();
      this.sleepers.add(entry);
    });
  }

  wakeSleepers(provider) {
    for (const s of [...this.sleepers]) if (!provider || s.provider === provider) s.resolve();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function maskSecret(secret, identifier) {
  // iRacing reference §1.5: Base64(SHA256(UTF8(secret + lowercase(trim(identifier))))), standard
  // Base64 with padding, over the raw 32-byte digest.
  return crypto.createHash('sha256')
    .update(`${secret}${identifier.trim().toLowerCase()}`, 'utf8')
    .digest('base64');
}

export function randomId(bytes = 12) {
  return crypto.randomBytes(bytes).toString('hex');
}

export function bearerToken(ctx) {
  const h = ctx.get('authorization');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h || '');
  return m ? m[1] : undefined;
}

// The access token the provider issued (opaque), or undefined if unknown, expired or revoked.
export async function findAccessToken(provider, token) {
  if (!token) return undefined;
  try {
    const at = await provider.AccessToken.find(token);
    if (!at || at.isExpired) return undefined;
    return at;
  } catch {
    return undefined;
  }
}

export function json(ctx, status, body, headers = {}) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = body;
  for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
}

export async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

// Redirect URIs a client may use: the ones registered at start-up plus bases added at run time
// through the control API (POST /redirect-base).
export function redirectUrisFor(bases, provider) {
  return [...bases].map((b) => `${b.replace(/\/+$/, '')}/auth/${provider}/callback`);
}

// ---------------------------------------------------------------------------------------------
// Storage: one Map per provider. (oidc-provider's bundled MemoryAdapter keeps one LRU of 1000
// entries for the whole process, which three providers would share and could evict from.)

export function makeAdapterClass() {
  const store = new Map(); // key -> { payload, expiresAt }
  const byGrant = new Map(); // grantId -> Set(key)
  const bySessionUid = new Map();
  const byUserCode = new Map();

  const live = (key) => {
    const e = store.get(key);
    if (!e) return undefined;
    if (e.expiresAt && e.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return e.payload;
  };

  return class MapAdapter {
    constructor(model) { this.model = model; }

    key(id) { return `${this.model}:${id}`; }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      if (this.model === 'Session') bySessionUid.set(payload.uid, id);
      if (payload.grantId) {
        if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
        byGrant.get(payload.grantId).add(key);
      }
      if (payload.userCode) byUserCode.set(payload.userCode, id);
      store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
    }

    async find(id) { return live(this.key(id)); }

    async findByUid(uid) {
      const id = bySessionUid.get(uid);
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode) {
      const id = byUserCode.get(userCode);
      return id ? this.find(id) : undefined;
    }

    async consume(id) {
      const p = live(this.key(id));
      if (p) p.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id) { store.delete(this.key(id)); }

    async revokeByGrantId(grantId) {
      for (const key of byGrant.get(grantId) || []) store.delete(key);
      byGrant.delete(grantId);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// oidc-provider configuration common to the three servers

// Every authorization request goes through the login interaction (test-user picker or
// login_hint), even when the browser still has a session: which test user logs in is then
// decided by each request, never by a cookie left over from an earlier test.
function alwaysLoginPolicy() {
  const policy = interactionPolicy.base();
  policy.get('login').checks.add(new interactionPolicy.Check(
    'pitwall_pick_test_user',
    'every authorization request picks a test user',
    (ctx) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT
      : interactionPolicy.Check.REQUEST_PROMPT),
  ));
  return policy;
}

export function baseConfiguration({ name, jwks, findAccount, scopes, claims, routes, ttl, clients }) {
  return {
    adapter: makeAdapterClass(),
    clients,
    jwks,
    findAccount,
    scopes,
    claims,
    routes,
    ttl,
    // Distinct cookie names: the three servers (and Pitwall) share the host 127.0.0.1, and
    // browsers do not separate cookies by port.
    cookies: {
      names: {
        session: `_${name}_session`,
        interaction: `_${name}_interaction`,
        resume: `_${name}_interaction_resume`,
      },
      keys: [randomId(32)],
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: false },
    },
    interactions: {
      policy: alwaysLoginPolicy(),
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Always issue a refresh token with an authorization code (the real providers do; the
    // OIDC default wants scope offline_access) and always rotate it (single use).
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    allowOmittingSingleRegisteredRedirectUri: false,
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(name)}: error</title></head>`
        + `<body><h1>${escapeHtml(name)} test server: error</h1><pre id="error">${escapeHtml(JSON.stringify(out, null, 2))}</pre></body></html>`;
    },
  };
}

// Lets the control API add redirect bases after start-up (clients are otherwise static).
export function allowRuntimeRedirects(provider, state, name) {
  const original = provider.Client.prototype.redirectUriAllowed;
  // eslint-disable-next-line func-names
  provider.Client.prototype.redirectUriAllowed = function (value) {
    return original.call(this, value) || redirectUrisFor(state.redirectBases, name).includes(value);
  };
}

// ---------------------------------------------------------------------------------------------
// Login without JavaScript: GET /interaction/:uid shows one submit button per test user (and a
// Deny button); login_hint=<user> on the authorize URL skips the page. Consent is granted
// automatically with login, so one form post (or none) leads back to the client with a code.

// users: test users keyed by login name; accountIdFor(login): the provider's account id (the
// subject) of that user.
export function interactionMiddleware({
  provider, name, title, users, describeUser, accountIdFor,
}) {
  const grantFor = async (details, accountId) => {
    const { params, prompt } = details;
    let grant;
    if (details.grantId) grant = await provider.Grant.find(details.grantId);
    if (!grant || grant.accountId !== accountId) {
      grant = new provider.Grant({ accountId, clientId: params.client_id });
    }
    if (params.scope) grant.addOIDCScope(params.scope);
    if (params.claims) {
      try {
        const c = JSON.parse(params.claims);
        for (const use of ['id_token', 'userinfo']) {
          if (c[use]) grant.addOIDCClaims(Object.keys(c[use]));
        }
      } catch { /* the provider has validated it already */ }
    }
    const d = prompt.details || {};
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, s] of Object.entries(d.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, s.join(' '));
    }
    return grant.save();
  };

  const finish = async (ctx, result) => {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  };

  const loginAndConsent = async (ctx, details, login) => {
    if (!users[login]) {
      return finish(ctx, { error: 'access_denied', error_description: `unknown test user "${login}"` });
    }
    const accountId = accountIdFor(login);
    // Drop the browser's earlier session first: switching accounts inside a live session makes
    // oidc-provider detour through a logout page that needs JavaScript.
    if (details.session?.uid) {
      const old = await provider.Session.findByUid(details.session.uid);
      if (old) await old.destroy();
      delete details.session; // eslint-disable-line no-param-reassign
      await details.save(details.exp - Math.floor(Date.now() / 1000));
    }
    const grantId = await grantFor(details, accountId);
    return finish(ctx, { login: { accountId }, consent: { grantId } });
  };

  const page = (details) => {
    const uid = escapeHtml(details.uid);
    const rows = Object.keys(users).map((u) => `<li><button type="submit" name="user" value="${escapeHtml(u)}" id="login-${escapeHtml(u)}">${escapeHtml(u)}</button> ${escapeHtml(describeUser(u))}</li>`).join('\n');
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}: sign in</title></head>
<body>
<h1>${escapeHtml(title)} (test server)</h1>
<p>Client <code>${escapeHtml(details.params.client_id)}</code> asks for <code>${escapeHtml(details.params.scope || '')}</code>. Pick a test user; consent is granted with the login.</p>
<form method="post" action="/interaction/${uid}/login">
<ul>
${rows}
</ul>
<p><button type="submit" name="deny" value="1" id="deny">Deny</button></p>
</form>
</body></html>`;
  };

  return async (ctx, next) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(ctx.path);
    if (!m) return next();
    ctx.set('cache-control', 'no-store');
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = `<!doctype html><p id="error">${escapeHtml(name)}: interaction expired or cookie missing (${escapeHtml(err.message)})</p>`;
      return undefined;
    }
    if (details.uid !== m[1]) {
      ctx.status = 400;
      ctx.body = 'interaction mismatch';
      return undefined;
    }

    if (ctx.method === 'GET' && !m[2]) {
      if (details.prompt.name === 'login') {
        const hint = details.params.login_hint;
        if (hint) return loginAndConsent(ctx, details, hint);
        ctx.type = 'html';
        ctx.body = page(details);
        return undefined;
      }
      // Consent (or any other prompt) after a login: granted without asking.
      const accountId = details.session?.accountId;
      if (!accountId) return finish(ctx, { error: 'login_required' });
      const grantId = await grantFor(details, accountId);
      return finish(ctx, { consent: { grantId } });
    }

    if (ctx.method === 'POST' && m[2]) {
      const form = new URLSearchParams(await readBody(ctx.req));
      if (form.get('deny')) {
        return finish(ctx, { error: 'access_denied', error_description: 'the test user denied the request' });
      }
      return loginAndConsent(ctx, details, form.get('user') || '');
    }

    ctx.status = 405;
    return undefined;
  };
}

// oidc-provider always adds RFC 9207 "iss" to authorization responses; Discord and iRacing do
// not send it, so those two servers take it out of the redirect again.
export function stripIssFromRedirect(ctx) {
  const location = ctx.response.get('location');
  if (!location || ctx.status < 300 || ctx.status >= 400) return;
  try {
    const u = new URL(location);
    if (!u.searchParams.has('iss')) return;
    u.searchParams.delete('iss');
    ctx.set('location', u.href);
  } catch { /* relative location: not a client redirect */ }
}
