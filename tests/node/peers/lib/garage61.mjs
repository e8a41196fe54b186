// Garage61-like OpenID Connect provider plus the two REST calls Pitwall needs. Paths follow
// reference garage61-and-discord.md §1.1: authorize /app/account/oauth, token /api/oauth/token,
// userinfo /api/oauth/userinfo, REST under /api/v1. The discovery document
// (/.well-known/openid-configuration), the JWKS path (/api/oauth/jwks) and the revocation path
// (/api/oauth/revoke) are our choice: the reference could not find Garage61's.
//
// id_token rewrites (control API modes): the token endpoint's answer is taken apart after the
// provider has produced it, the id_token's claims are changed and it is signed again with jose:
//   wrong_nonce  nonce replaced                     (signed with the provider's own RS256 key)
//   wrong_aud    aud = "someone-else"               (own key)
//   wrong_iss    iss = another origin               (own key)
//   expired      iat/exp an hour in the past        (own key)
//   forged       claims untouched, signed by a key that is NOT in the JWKS but carries the
//                provider's kid
//   rotate_keys  signed by a new RSA key with a new kid, published in the JWKS from then on
//                (until POST /reset); every POST of this mode rotates again
//   es256        signed with the provider's ES256 key (in the JWKS from the start)

import Provider from 'oidc-provider';
import {
  SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK,
} from 'jose';

import {
  allowRuntimeRedirects, baseConfiguration, bearerToken, findAccessToken, interactionMiddleware,
  json, randomId, redirectUrisFor,
} from './common.mjs';
import { tokenEndpointMiddleware } from './token_modes.mjs';

const NAME = 'garage61';
const TOKEN_PATH = '/api/oauth/token';
const JWKS_PATH = '/api/oauth/jwks';

export async function makeRsaKey(kid) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const privateJwk = { ...await exportJWK(privateKey), kid, alg: 'RS256', use: 'sig' };
  const { d, p, q, dp, dq, qi, ...publicJwk } = privateJwk; // eslint-disable-line no-unused-vars
  return { privateJwk, publicJwk, key: privateKey, alg: 'RS256', kid };
}

export async function makeEcKey(kid) {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...await exportJWK(privateKey), kid, alg: 'ES256', use: 'sig' };
  const { d, ...publicJwk } = privateJwk; // eslint-disable-line no-unused-vars
  return { privateJwk, publicJwk, key: privateKey, alg: 'ES256', kid };
}

function trace() {
  return randomId(8);
}

export async function createGarage61({ issuer, fixtures, client, state, keys }) {
  const users = fixtures.garage61.users;
  const byId = new Map(Object.values(users).map((u) => [u.id, u]));
  const byPat = new Map(Object.values(users).filter((u) => u.pat).map((u) => [u.pat, u]));
  const rotated = []; // newest first
  state.resetHooks.push(() => { rotated.length = 0; });

  const config = baseConfiguration({
    name: NAME,
    jwks: { keys: [keys.rsa.privateJwk, keys.ec.privateJwk] },
    scopes: [
      'openid', 'offline_access', 'profile', 'email', 'driving_data', 'analyses', 'datapacks_subscriptions',
      'team_datapacks_read', 'team_members',
    ],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'nickname', 'preferred_username', 'slug'],
      email: ['email', 'email_verified'],
    },
    routes: {
      authorization: '/app/account/oauth',
      token: TOKEN_PATH,
      userinfo: '/api/oauth/userinfo',
      jwks: JWKS_PATH,
      revocation: '/api/oauth/revoke',
      end_session: '/api/oauth/logout',
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 300,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Grant: 30 * 24 * 3600,
      Interaction: 3600,
      Session: 3600,
    },
    clients: [{
      client_id: client.id,
      client_secret: client.secret,
      redirect_uris: redirectUrisFor(state.redirectBases, NAME),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    }],
    findAccount: async (ctx, sub) => {
      const u = byId.get(sub);
      if (!u) return undefined;
      return {
        accountId: sub,
        // Where the slug shows up is per user (fixtures.json "slug_in") so that Pitwall's chain
        // id_token "slug" -> userinfo "preferred_username" -> GET /api/v1/me can be tested.
        claims: async (use) => ({
          sub,
          name: `${u.firstName} ${u.lastName}`,
          given_name: u.firstName,
          family_name: u.lastName,
          nickname: u.nickName,
          email: u.email,
          email_verified: true,
          ...(use === 'id_token' && u.slug_in.includes('id_token') ? { slug: u.slug } : {}),
          ...(use === 'userinfo' && u.slug_in.includes('userinfo') ? { preferred_username: u.slug } : {}),
        }),
      };
    },
  });
  config.features.userinfo = { enabled: true };
  // Profile claims (and "slug") go into the id_token too, not only to userinfo.
  config.conformIdTokenClaims = false;
  config.pkce = { methods: ['S256'], required: () => false };

  const provider = new Provider(issuer, config);
  allowRuntimeRedirects(provider, state, NAME);

  const ownKey = await importJWK(keys.rsa.privateJwk, 'RS256');
  const ecKey = await importJWK(keys.ec.privateJwk, 'ES256');

  async function rewriteIdToken(idToken, mode) {
    const header = decodeProtectedHeader(idToken);
    const claims = decodeJwt(idToken);
    const now = Math.floor(Date.now() / 1000);
    let signWith = { key: ownKey, alg: 'RS256', kid: keys.rsa.kid };
    switch (mode) {
      case 'wrong_nonce': claims.nonce = `not-${claims.nonce ?? 'a'}-${randomId(4)}`; break;
      case 'wrong_aud': claims.aud = 'someone-else'; break;
      case 'wrong_iss': claims.iss = 'http://127.0.0.1:9/not-garage61'; break;
      case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; if (claims.auth_time) claims.auth_time = now - 7200; break;
      case 'forged': signWith = { key: foreign.key, alg: 'RS256', kid: keys.rsa.kid }; break;
      case 'rotate_keys': signWith = { key: rotated[0].key, alg: 'RS256', kid: rotated[0].kid }; break;
      case 'es256': signWith = { key: ecKey, alg: 'ES256', kid: keys.ec.kid }; break;
      default: return idToken;
    }
    return new SignJWT(claims)
      .setProtectedHeader({ ...header, alg: signWith.alg, kid: signWith.kid })
      .sign(signWith.key);
  }

  // Called by the control API before it answers POST /mode.
  let foreign; // "forged": a key pair that is not in the JWKS, made on first use
  async function onMode(mode) {
    if (mode === 'rotate_keys') rotated.unshift(await makeRsaKey(`g61-rotated-${randomId(4)}`));
    if (mode === 'forged' && !foreign) foreign = await makeRsaKey(keys.rsa.kid);
  }

  provider.use(async (ctx, next) => {
    const p = ctx.path;
    let endpoint = 'other';
    if (p === '/app/account/oauth') endpoint = 'authorize';
    else if (p.startsWith('/app/account/oauth/')) endpoint = 'authorize_resume';
    else if (p.startsWith('/interaction/')) endpoint = 'interaction';
    else if (p === TOKEN_PATH) endpoint = 'token';
    else if (p === '/api/oauth/userinfo') endpoint = 'userinfo';
    else if (p === JWKS_PATH) endpoint = 'jwks';
    else if (p === '/.well-known/openid-configuration') endpoint = 'discovery';
    else if (p === '/api/oauth/revoke') endpoint = 'revoke';
    else if (p === '/api/v1/me') endpoint = 'me';
    else if (p === '/api/v1/me/accounts') endpoint = 'me_accounts';
    state.count(NAME, endpoint);
    ctx.set('x-g61-trace', trace());
    await next();
    if (p === JWKS_PATH && ctx.status === 200 && rotated.length && ctx.body?.keys) {
      ctx.body = { keys: [...rotated.map((k) => k.publicJwk), ...ctx.body.keys] };
    }
  });

  provider.use(interactionMiddleware({
    provider,
    name: NAME,
    title: 'Garage61',
    users,
    accountIdFor: (login) => users[login].id,
    describeUser: (u) => `${users[u].firstName} ${users[u].lastName} (slug ${users[u].slug}; slug in: ${['id_token', 'userinfo'].filter((x) => users[u].slug_in.includes(x)).concat('/me').join(', ')})`,
  }));

  provider.use(tokenEndpointMiddleware({
    provider,
    name: NAME,
    state,
    tokenPath: TOKEN_PATH,
    onSuccess: async (ctx) => {
      const { mode } = state.mode(NAME);
      if (ctx.body.id_token && mode !== 'normal') {
        ctx.body = { ...ctx.body, id_token: await rewriteIdToken(ctx.body.id_token, mode) };
      }
    },
  }));

  // REST API: Bearer = an access token from this provider or a personal access token (fixtures).
  provider.use(async (ctx, next) => {
    const p = ctx.path;
    if (!p.startsWith('/api/v1/')) return next();
    const token = bearerToken(ctx);
    if (!token) {
      return json(ctx, 401, { message: 'Missing authorization: supply a Bearer token in the Authorization header.', trace: ctx.response.get('x-g61-trace') });
    }
    let u = byPat.get(token);
    let apiPermissions = [];
    if (!u) {
      const at = await findAccessToken(provider, token);
      if (at) {
        u = byId.get(at.accountId);
        apiPermissions = [...at.scopes].filter((s) => !['openid', 'profile', 'email', 'offline_access'].includes(s));
      }
    }
    if (!u) {
      return json(ctx, 401, { message: 'Bad authentication: invalid access token.', trace: ctx.response.get('x-g61-trace') });
    }
    if (ctx.method !== 'GET') return json(ctx, 405, { message: 'Method not allowed', trace: ctx.response.get('x-g61-trace') });
    if (p === '/api/v1/me') {
      return json(ctx, 200, {
        id: u.id,
        slug: u.slug,
        firstName: u.firstName,
        lastName: u.lastName,
        nickName: u.nickName,
        subscriptionPlan: u.subscriptionPlan,
        apiPermissions,
        teams: u.teams,
      });
    }
    if (p === '/api/v1/me/accounts') {
      const items = u.iracing_cust_id == null ? [] : [{
        platform: 'iracing', id: u.iracing_cust_id, name: `${u.firstName} ${u.lastName}`,
      }];
      return json(ctx, 200, { items, total: items.length });
    }
    return json(ctx, 404, { message: 'Not found', trace: ctx.response.get('x-g61-trace') });
  });

  return { provider, tokenPath: TOKEN_PATH, onMode };
}
