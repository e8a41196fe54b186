// iRacing-like authorization server (OAuth 2.0). Paths follow reference iracing.md §1.1 with the
// same /oauth2 prefix, so Pitwall's configuration only swaps the host:
//   /oauth2/authorize, /oauth2/token, /oauth2/iracing/profile, /oauth2/revoke/{current,sessions,client}
// plus the provider's RFC 7009 revocation at /oauth2/revoke (client-authenticated).
//
// Rules that mirror the reference:
//   - PKCE is required and only S256 is accepted (§1.3; iRacing would default to "plain" when the
//     method is missing; here a missing method is refused, which is stricter).
//   - client_secret must be MASKED (§1.5). See the registration below.
//   - refresh tokens are single use (§1.6): the answer to a refresh carries a new one, and
//     presenting a used one fails with invalid_grant (oidc-provider then also revokes the whole
//     grant, as RFC 9700 recommends; the real server's exact reaction is unknown).
//   - token response fields and error bodies as in §1.6 and §1.8.

import { randomUUID } from 'node:crypto';

import Provider from 'oidc-provider';

import {
  allowRuntimeRedirects, baseConfiguration, stripIssFromRedirect, bearerToken, findAccessToken, interactionMiddleware,
  json, maskSecret, redirectUrisFor,
} from './common.mjs';
import { tokenEndpointMiddleware } from './token_modes.mjs';

const NAME = 'iracing';
const TOKEN_PATH = '/oauth2/token';
const ACCESS_TTL = 600;
const REFRESH_TTL = 3600;
const ERROR_URI = 'https://oauth.iracing.com/oauth2/book/errors.html';
const STATUS = {
  access_denied: 401,
  insufficient_scope: 403,
  invalid_client: 403,
  invalid_grant: 400,
  invalid_request: 400,
  invalid_scope: 400,
  invalid_token: 401,
  server_error: 500,
  temporarily_unavailable: 503,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
};
const REASON = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

function errorBody(error, description, status = STATUS[error] || 400) {
  return {
    status,
    status_reason: REASON[status] || 'Error',
    error,
    error_description: description,
    error_uri: ERROR_URI,
  };
}

function reshapeError(ctx) {
  const { error, error_description: description } = ctx.body;
  const status = STATUS[error] || ctx.status;
  ctx.status = status;
  ctx.body = errorBody(error, description, status);
}

export async function createIracing({ issuer, fixtures, client, state, keys }) {
  const users = fixtures.iracing.users;
  // Account id (subject) = the customer id as a string.
  const byId = new Map(Object.values(users).map((u) => [String(u.cust_id), u]));

  const config = baseConfiguration({
    name: NAME,
    jwks: { keys: [keys.signing.privateJwk] },
    scopes: ['iracing.auth', 'iracing.profile'],
    claims: {},
    routes: {
      authorization: '/oauth2/authorize',
      token: TOKEN_PATH,
      revocation: '/oauth2/revoke',
      jwks: '/_peer/jwks',
      userinfo: '/_peer/userinfo',
      end_session: '/_peer/session/end',
    },
    ttl: {
      AccessToken: ACCESS_TTL,
      AuthorizationCode: 300,
      RefreshToken: REFRESH_TTL,
      Grant: 30 * 24 * 3600,
      Interaction: 3600,
      Session: 3600,
      IdToken: 3600,
    },
    clients: [{
      client_id: client.id,
      // THE MASKING TRICK: iRacing wants the client to send
      //   client_secret = Base64(SHA256(secret + lowercase(trim(client_id))))
      // rather than the secret itself. oidc-provider compares client_secret byte for byte, so the
      // client is registered with the masked value as its secret: a correctly masking client
      // authenticates, and one that sends the plain secret gets invalid_client.
      client_secret: maskSecret(client.secret, client.id),
      redirect_uris: redirectUrisFor(state.redirectBases, NAME),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    }],
    findAccount: async (ctx, sub) => (byId.has(sub) ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
  });
  config.pkce = { methods: ['S256'], required: () => true };

  const provider = new Provider(issuer, config);
  allowRuntimeRedirects(provider, state, NAME);

  provider.use(async (ctx, next) => {
    const p = ctx.path;
    let endpoint = 'other';
    if (p === '/oauth2/authorize') endpoint = 'authorize';
    else if (p.startsWith('/oauth2/authorize/')) endpoint = 'authorize_resume';
    else if (p.startsWith('/interaction/')) endpoint = 'interaction';
    else if (p === TOKEN_PATH) endpoint = 'token';
    else if (p === '/oauth2/iracing/profile') endpoint = 'profile';
    else if (p === '/oauth2/revoke') endpoint = 'revoke';
    else if (p.startsWith('/oauth2/revoke/')) endpoint = `revoke_${p.slice('/oauth2/revoke/'.length)}`;
    state.count(NAME, endpoint);
    ctx.set('x-request-id', randomUUID());
    if (p.startsWith('/.well-known/') || p.startsWith('/_peer/')) {
      json(ctx, 404, { status: 404, status_reason: 'Not Found' });
      return undefined;
    }
    await next();
    if (endpoint.startsWith('authorize') || endpoint === 'interaction') stripIssFromRedirect(ctx);
    // Error bodies of the provider's JSON endpoints in iRacing's shape.
    if ((p === TOKEN_PATH || p === '/oauth2/revoke') && ctx.body?.error && !ctx.body.error_uri) reshapeError(ctx);
    return undefined;
  });

  provider.use(interactionMiddleware({
    provider,
    name: NAME,
    title: 'iRacing',
    users,
    accountIdFor: (login) => String(users[login].cust_id),
    describeUser: (u) => `${users[u].name} (customer id ${users[u].cust_id})`,
  }));

  provider.use(tokenEndpointMiddleware({
    provider,
    name: NAME,
    state,
    tokenPath: TOKEN_PATH,
    onSuccess: async (ctx) => {
      const b = ctx.body;
      let refreshExpiresIn;
      if (b.refresh_token) {
        const rt = await provider.RefreshToken.find(b.refresh_token);
        refreshExpiresIn = rt ? Math.max(0, rt.exp - Math.floor(Date.now() / 1000)) : REFRESH_TTL;
      }
      ctx.body = {
        access_token: b.access_token,
        token_type: 'bearer',
        expires_in: b.expires_in,
        ...(b.refresh_token ? { refresh_token: b.refresh_token, refresh_token_expires_in: refreshExpiresIn } : {}),
        scope: b.scope ?? '',
      };
    },
  }));

  provider.use(async (ctx, next) => {
    const p = ctx.path;
    if (p !== '/oauth2/iracing/profile' && !/^\/oauth2\/revoke\/(current|sessions|client)$/.test(p)) return next();
    const token = bearerToken(ctx);
    const at = await findAccessToken(provider, token);
    if (!at || !byId.has(at.accountId)) {
      ctx.set('www-authenticate', 'Bearer error="invalid_token"');
      return json(ctx, 401, errorBody('invalid_token', token ? 'invalid or expired access token' : 'no bearer token'));
    }
    if (p === '/oauth2/iracing/profile') {
      if (ctx.method !== 'GET') return json(ctx, 405, errorBody('invalid_request', 'use GET', 400));
      if (!at.scopes.has('iracing.profile')) {
        return json(ctx, 403, errorBody('insufficient_scope', 'scope iracing.profile required'));
      }
      const u = byId.get(at.accountId);
      return json(ctx, 200, { iracing_name: u.name, iracing_cust_id: u.cust_id });
    }
    if (ctx.method !== 'POST') return json(ctx, 405, errorBody('invalid_request', 'use POST', 400));
    // /revoke/current, /revoke/sessions, /revoke/client: this test server has one session per
    // grant, so all three end the grant of the presented token (its access and refresh tokens).
    await provider.AccessToken.adapter.revokeByGrantId(at.grantId);
    await provider.Grant.adapter.destroy(at.grantId);
    ctx.status = 200;
    ctx.body = '';
    return undefined;
  });

  return { provider, tokenPath: TOKEN_PATH, maskedSecret: maskSecret(client.secret, client.id) };
}
