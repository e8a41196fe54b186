// Discord-like authorization server (OAuth 2.0, no OIDC) plus the two user endpoints Pitwall's
// login reads. Paths follow reference garage61-and-discord.md §2.2: browser authorize at
// /oauth2/authorize, token at /api/oauth2/token (also /api/v{9,10}/oauth2/token), revocation at
// /api/oauth2/token/revoke, user API under /api/v10.

import Provider from 'oidc-provider';

import {
  allowRuntimeRedirects, baseConfiguration, stripIssFromRedirect, bearerToken, findAccessToken, interactionMiddleware,
  json, redirectUrisFor,
} from './common.mjs';
import { tokenEndpointMiddleware } from './token_modes.mjs';

const NAME = 'discord';
const SCOPES = ['identify', 'email', 'guilds', 'guilds.members.read', 'guilds.join', 'connections'];
const TOKEN_PATH = '/api/oauth2/token';

const unauthorized = (ctx) => json(ctx, 401, { message: '401: Unauthorized', code: 0 });
const missingAccess = (ctx) => json(ctx, 403, { message: 'Missing Access', code: 50001 });

function userObject(u) {
  return {
    id: u.id,
    username: u.username,
    global_name: u.global_name,
    avatar: u.avatar,
    discriminator: '0',
    public_flags: 0,
    flags: 0,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
    mfa_enabled: false,
    locale: 'en-US',
    premium_type: 0,
  };
}

export async function createDiscord({ issuer, fixtures, client, state, keys }) {
  const users = fixtures.discord.users;
  const guildId = fixtures.discord.guild_id;
  // Account id (subject) = the Discord user id.
  const byId = new Map(Object.values(users).map((u) => [u.id, u]));

  const config = baseConfiguration({
    name: NAME,
    jwks: { keys: [keys.signing.privateJwk] },
    scopes: SCOPES,
    claims: {},
    routes: {
      authorization: '/oauth2/authorize',
      token: TOKEN_PATH,
      revocation: '/api/oauth2/token/revoke',
      jwks: '/_peer/jwks',
      userinfo: '/_peer/userinfo',
      end_session: '/_peer/session/end',
    },
    ttl: {
      AccessToken: 604800,
      AuthorizationCode: 600,
      RefreshToken: 30 * 24 * 3600,
      Grant: 30 * 24 * 3600,
      Interaction: 3600,
      Session: 3600,
      IdToken: 3600,
    },
    clients: [{
      client_id: client.id,
      client_secret: client.secret,
      redirect_uris: redirectUrisFor(state.redirectBases, NAME),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // client_secret_post and client_secret_basic are both accepted for a secret client.
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    }],
    findAccount: async (ctx, sub) => (byId.has(sub) ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
  });
  // PKCE: S256 accepted (Pitwall sends it), not required for this confidential client.
  config.pkce = { methods: ['S256'], required: () => false };

  const provider = new Provider(issuer, config);
  allowRuntimeRedirects(provider, state, NAME);

  // Request counting and path aliases first.
  provider.use(async (ctx, next) => {
    const p = ctx.path;
    let endpoint = 'other';
    if (p === '/oauth2/authorize') endpoint = 'authorize';
    else if (p.startsWith('/oauth2/authorize/')) endpoint = 'authorize_resume';
    else if (p.startsWith('/interaction/')) endpoint = 'interaction';
    else if (/^\/api(\/v(9|10))?\/oauth2\/token$/.test(p)) endpoint = 'token';
    else if (/^\/api(\/v(9|10))?\/oauth2\/token\/revoke$/.test(p)) endpoint = 'revoke';
    else if (/^\/api(\/v(9|10))?\/oauth2\/@me$/.test(p)) endpoint = 'oauth2_me';
    else if (/^\/api(\/v(9|10))?\/users\/@me$/.test(p)) endpoint = 'users_me';
    else if (/^\/api(\/v(9|10))?\/users\/@me\/guilds\/[^/]+\/member$/.test(p)) endpoint = 'guild_member';
    else if (/^\/api(\/v(9|10))?\/users\/@me\/guilds$/.test(p)) endpoint = 'guilds';
    state.count(NAME, endpoint);

    // The docs' example posts to /api/v10/oauth2/token: serve the versioned aliases too.
    const alias = /^\/api\/v(9|10)(\/oauth2\/token(\/revoke)?)$/.exec(p);
    if (alias) ctx.path = `/api${alias[2]}`;
    // No OIDC at Discord: hide the provider's discovery and internal routes.
    if (p.startsWith('/.well-known/') || p.startsWith('/_peer/')) return json(ctx, 404, { message: '404: Not Found', code: 0 });
    await next();
    if (endpoint.startsWith('authorize') || endpoint === 'interaction') stripIssFromRedirect(ctx);
    return undefined;
  });

  provider.use(interactionMiddleware({
    provider,
    name: NAME,
    title: 'Discord',
    users,
    accountIdFor: (login) => users[login].id,
    describeUser: (u) => `${users[u].global_name} (id ${users[u].id}${users[u].member ? `, nick "${users[u].member.nick}"` : ', not in the guild'})`,
  }));

  provider.use(tokenEndpointMiddleware({ provider, name: NAME, state, tokenPath: TOKEN_PATH }));

  // Resource endpoints: bearer = an access token this provider issued.
  provider.use(async (ctx, next) => {
    const m = /^\/api(?:\/v(?:9|10))?\/(users\/@me(?:\/guilds(?:\/([^/]+)\/member)?)?|oauth2\/@me)$/.exec(ctx.path);
    if (!m || ctx.method !== 'GET') return next();
    const at = await findAccessToken(provider, bearerToken(ctx));
    if (!at) return unauthorized(ctx);
    const u = byId.get(at.accountId);
    if (!u) return unauthorized(ctx);
    const scopes = at.scopes;

    if (m[1] === 'oauth2/@me') {
      return json(ctx, 200, {
        application: { id: client.id, name: 'Pitwall (test)', bot_public: false },
        scopes: [...scopes],
        expires: new Date(at.exp * 1000).toISOString(),
        ...(scopes.has('identify') ? { user: userObject(u) } : {}),
      });
    }
    if (m[1] === 'users/@me') {
      if (!scopes.has('identify')) return missingAccess(ctx);
      return json(ctx, 200, userObject(u));
    }
    if (m[1] === 'users/@me/guilds') {
      if (!scopes.has('guilds')) return missingAccess(ctx);
      return json(ctx, 200, u.member ? [{
        id: guildId, name: 'Pitwall Test Guild', icon: null, banner: null, owner: u.member.roles.includes(fixtures.discord.roles.Owner), permissions: '0', features: [],
      }] : []);
    }
    // users/@me/guilds/{guild}/member
    if (!scopes.has('guilds.members.read')) return missingAccess(ctx);
    if (m[2] !== guildId || !u.member) return json(ctx, 404, { message: 'Unknown Guild', code: 10004 });
    return json(ctx, 200, {
      user: userObject(u),
      nick: u.member.nick,
      avatar: null,
      banner: null,
      roles: u.member.roles,
      joined_at: u.member.joined_at,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
    });
  });

  return { provider, tokenPath: TOKEN_PATH };
}
