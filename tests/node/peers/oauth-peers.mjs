#!/usr/bin/env node
// Three real OAuth 2.0 / OpenID Connect authorization servers (npm oidc-provider, an
// OpenID-certified implementation) shaped like Discord, iRacing and Garage61, plus a control API
// for negative tests. Everything listens on loopback, each on its own port.
//
//   node peers/oauth-peers.mjs [--redirect-base http://127.0.0.1:8080] [options]
//
// When every server listens, ONE line of JSON goes to stdout (and to --ready-file if given):
//   {"discord":"http://127.0.0.1:P1","iracing":"http://127.0.0.1:P2","garage61":"http://127.0.0.1:P3","control":"http://127.0.0.1:P4"}
// Everything else goes to stderr. The process runs until SIGTERM/SIGINT, or until stdin closes
// when stdin is a pipe or socket (a parent that dies closes it). With stdin on /dev/null, a file
// or a terminal, only signals stop it.
//
// Options (environment variable in brackets):
//   --redirect-base URL        Pitwall's base URL; registers <URL>/auth/{discord,iracing,garage61}/callback.
//                              Repeatable, or comma-separated [PEERS_REDIRECT_BASE]. Default http://127.0.0.1:8080.
//                              More bases can be added later: POST <control>/redirect-base {"base":URL}.
//   --discord-client-id ID     [PEERS_DISCORD_CLIENT_ID]   default pw-discord
//   --discord-client-secret S  [PEERS_DISCORD_CLIENT_SECRET] default discord-secret
//   --iracing-client-id ID     [PEERS_IRACING_CLIENT_ID]   default pw-iracing
//   --iracing-client-secret S  [PEERS_IRACING_CLIENT_SECRET] default iracing-secret (send it masked)
//   --garage61-client-id ID    [PEERS_GARAGE61_CLIENT_ID]  default pw-garage61
//   --garage61-client-secret S [PEERS_GARAGE61_CLIENT_SECRET] default garage61-secret
//   --host ADDR                [PEERS_HOST] loopback address to bind, default 127.0.0.1
//   --discord-port N, --iracing-port N, --garage61-port N, --control-port N   default 0 (random)
//   --fixtures PATH            [PEERS_FIXTURES] default fixtures.json next to this file
//   --ready-file PATH          also write the JSON line to PATH (atomically, via rename)
//   --verbose                  log every request to stderr
//
// Control API (the "control" origin; JSON in and out):
//   GET  /mode                          current mode of each provider
//   POST /mode {"provider":P,"mode":M[,"delay_ms":N]}
//        any provider: normal | slow (token endpoint answers after delay_ms, default 30000) |
//                      server_error (token endpoint: 500 server_error)
//        garage61 also: wrong_nonce | wrong_aud | wrong_iss | expired | forged | rotate_keys | es256
//        Modes stay until changed or reset.
//   GET  /calls                         {"discord":{"authorize":1,"token":1,...},...}
//   POST /reset                         modes normal, counters zero, rotated keys dropped, slow requests released
//   POST /redirect-base {"base":URL}    allow one more Pitwall base URL (all three providers)
//   GET  /fixtures                      the fixtures in use (users, ids, client ids)
//   GET  /health                        {"ok":true}

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// stdout carries exactly one line (the ready line): route incidental console output to stderr.
console.log = console.error; // eslint-disable-line no-console
console.info = console.error; // eslint-disable-line no-console

const { createDiscord } = await import('./lib/discord.mjs');
const { createIracing } = await import('./lib/iracing.mjs');
const { createGarage61, makeRsaKey, makeEcKey } = await import('./lib/garage61.mjs');
const { PeerState, PROVIDERS, readBody, maskSecret } = await import('./lib/common.mjs');

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = { redirectBases: [], verbose: false };
  const valueFlags = new Set([
    'redirect-base', 'discord-client-id', 'discord-client-secret', 'iracing-client-id', 'iracing-client-secret',
    'garage61-client-id', 'garage61-client-secret', 'host', 'discord-port', 'iracing-port', 'garage61-port',
    'control-port', 'fixtures', 'ready-file',
  ]);
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let value;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    arg = arg.slice(2);
    const eq = arg.indexOf('=');
    if (eq !== -1) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    if (arg === 'verbose') { opts.verbose = true; continue; } // eslint-disable-line no-continue
    if (arg === 'help') { opts.help = true; continue; } // eslint-disable-line no-continue
    if (!valueFlags.has(arg)) throw new Error(`unknown option --${arg}`);
    if (value === undefined) {
      i += 1;
      if (i >= argv.length) throw new Error(`--${arg} needs a value`);
      value = argv[i];
    }
    if (arg === 'redirect-base') opts.redirectBases.push(...value.split(',').filter(Boolean));
    else opts[arg] = value;
  }
  return opts;
}

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function checkBase(base) {
  const u = new URL(base);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`redirect base must be http(s): ${base}`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    const src = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8');
    process.stderr.write(`${src.split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n')}\n`);
    return;
  }
  const env = process.env;
  const host = opts.host || env.PEERS_HOST || '127.0.0.1';
  if (!isLoopback(host)) throw new Error(`refusing to bind ${host}: loopback only`);
  const fixturesPath = opts.fixtures || env.PEERS_FIXTURES || path.join(here, 'fixtures.json');
  const fixtures = JSON.parse(fs.readFileSync(fixturesPath, 'utf8'));

  const state = new PeerState();
  const bases = opts.redirectBases.length ? opts.redirectBases
    : (env.PEERS_REDIRECT_BASE ? env.PEERS_REDIRECT_BASE.split(',').filter(Boolean) : ['http://127.0.0.1:8080']);
  for (const b of bases) state.redirectBases.add(checkBase(b));

  const clientFor = (p) => ({
    id: opts[`${p}-client-id`] || env[`PEERS_${p.toUpperCase()}_CLIENT_ID`] || fixtures[p].client_id,
    secret: opts[`${p}-client-secret`] || env[`PEERS_${p.toUpperCase()}_CLIENT_SECRET`] || fixtures[p].client_secret,
  });

  // Listen first (the issuer URL needs the port), attach the provider afterwards.
  const listen = (port) => new Promise((resolve, reject) => {
    const server = http.createServer();
    server.keepAliveTimeout = 5000;
    server.once('error', reject);
    server.listen(Number(port || 0), host, () => resolve(server));
  });
  const urlOf = (server) => {
    const { port } = server.address();
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  };

  const servers = {};
  for (const p of [...PROVIDERS, 'control']) servers[p] = await listen(opts[`${p}-port`]); // eslint-disable-line no-await-in-loop

  // Discord and iRacing issue no id_tokens; a P-256 key (cheap to make) satisfies the provider.
  const [dKey, iKey, gRsa, gEc] = await Promise.all([
    makeEcKey('discord-es-1'), makeEcKey('iracing-es-1'), makeRsaKey('g61-rs-1'), makeEcKey('g61-es-1'),
  ]);

  const peers = {
    discord: await createDiscord({ issuer: urlOf(servers.discord), fixtures, client: clientFor('discord'), state, keys: { signing: dKey } }),
    iracing: await createIracing({ issuer: urlOf(servers.iracing), fixtures, client: clientFor('iracing'), state, keys: { signing: iKey } }),
    garage61: await createGarage61({
      issuer: urlOf(servers.garage61), fixtures, client: clientFor('garage61'), state, keys: { rsa: gRsa, ec: gEc },
    }),
  };

  for (const p of PROVIDERS) {
    const { provider } = peers[p];
    provider.proxy = false;
    provider.on('server_error', (ctx, err) => process.stderr.write(`[${p}] server_error: ${err.stack || err}\n`));
    const handler = provider.callback();
    servers[p].on('request', (req, res) => {
      if (opts.verbose) {
        const t0 = Date.now();
        res.on('finish', () => process.stderr.write(`[${p}] ${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - t0} ms)\n`));
      }
      handler(req, res);
    });
  }

  servers.control.on('request', (req, res) => {
    control(req, res).catch((err) => send(res, 500, { error: String(err.message || err) }));
  });

  function send(res, status, body) {
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  }

  async function control(req, res) {
    const url = new URL(req.url, 'http://control');
    const key = `${req.method} ${url.pathname}`;
    let body = {};
    if (req.method === 'POST') {
      const text = await readBody(req);
      if (text.trim()) {
        try { body = JSON.parse(text); } catch { return send(res, 400, { error: 'body must be JSON' }); }
      }
    }
    switch (key) {
      case 'GET /health': return send(res, 200, { ok: true });
      case 'GET /mode': return send(res, 200, state.modes);
      case 'POST /mode': {
        try {
          const entry = state.setMode(body.provider, body.mode, body);
          if (peers[body.provider].onMode) await peers[body.provider].onMode(body.mode);
          process.stderr.write(`[control] ${body.provider} mode ${JSON.stringify(entry)}\n`);
          return send(res, 200, { provider: body.provider, ...entry });
        } catch (err) {
          return send(res, 400, { error: err.message });
        }
      }
      case 'GET /calls': return send(res, 200, state.calls);
      case 'POST /reset':
        state.reset();
        return send(res, 200, { ok: true });
      case 'POST /redirect-base': {
        try {
          const b = checkBase(String(body.base));
          state.redirectBases.add(b);
          return send(res, 200, { redirect_bases: [...state.redirectBases] });
        } catch (err) {
          return send(res, 400, { error: err.message });
        }
      }
      case 'GET /fixtures': return send(res, 200, {
        ...fixtures,
        clients: Object.fromEntries(PROVIDERS.map((p) => [p, clientFor(p)])),
        iracing_masked_secret: maskSecret(clientFor('iracing').secret, clientFor('iracing').id),
        redirect_bases: [...state.redirectBases],
      });
      default: return send(res, 404, { error: `no route ${key}` });
    }
  }

  const ready = Object.fromEntries([...PROVIDERS, 'control'].map((p) => [p, urlOf(servers[p])]));
  const line = `${JSON.stringify(ready)}\n`;

  let stopping = false;
  const stop = (why) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`oauth-peers: stopping (${why})\n`);
    state.wakeSleepers();
    Promise.all(Object.values(servers).map((s) => new Promise((resolve) => {
      s.close(resolve);
      s.closeAllConnections();
    }))).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    const st = fs.fstatSync(0);
    if (st.isFIFO() || st.isSocket()) {
      process.stdin.on('end', () => stop('stdin closed'));
      process.stdin.on('close', () => stop('stdin closed'));
      process.stdin.on('error', () => stop('stdin error'));
      process.stdin.resume();
    }
  } catch { /* no stdin */ }

  if (opts['ready-file']) {
    const tmp = `${opts['ready-file']}.tmp${process.pid}`;
    fs.writeFileSync(tmp, line);
    fs.renameSync(tmp, opts['ready-file']);
  }
  process.stdout.write(line);
  process.stderr.write(`oauth-peers: ready; redirect bases ${[...state.redirectBases].join(', ')}\n`);
}

main().catch((err) => {
  process.stderr.write(`oauth-peers: ${err.stack || err}\n`);
  process.exit(1);
});
