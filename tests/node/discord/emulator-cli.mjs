#!/usr/bin/env node
// Runs the Discord emulator (emulator.mjs) as a process, for the C++ tests and the benchmark.
//
//   node tests/node/discord/emulator-cli.mjs [--config '<json>' | --config-file PATH] [--port N] [--verbose]
//
// The JSON config holds startDiscordEmulator() options (see tests/node/README.md), e.g.
//   {"port":0,"heartbeatIntervalMs":2000,"globalPerSecond":50,"dmClosedUsers":["100000000000000003"]}
// Once listening, ONE line of JSON goes to stdout:
//   {"api":"http://127.0.0.1:P/api/v10","gateway":"ws://127.0.0.1:P/gateway","control":"http://127.0.0.1:P/control","port":P}
// Everything else goes to stderr. The bot token, application id and guild id in use are in
// GET <control>/state. The process runs until SIGTERM/SIGINT, or until stdin closes when stdin is a
// pipe or socket (a parent that dies closes it); with stdin on /dev/null only signals stop it.
import * as fs from 'node:fs';

import { startDiscordEmulator } from './emulator.mjs';

// stdout carries exactly one line.
console.log = console.error; // eslint-disable-line no-console
console.info = console.error; // eslint-disable-line no-console

function usage() {
  return 'usage: emulator-cli.mjs [--config JSON | --config-file PATH] [--port N] [--verbose]';
}

function parseArgs(argv) {
  const out = { config: {} };
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const next = () => {
      if (value !== undefined) return value;
      i += 1;
      if (i >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[i];
    };
    switch (arg) {
      case '--config': Object.assign(out.config, JSON.parse(next())); break;
      case '--config-file': Object.assign(out.config, JSON.parse(fs.readFileSync(next(), 'utf8'))); break;
      case '--port': out.config.port = Number(next()); break;
      case '--verbose': out.config.verbose = true; break;
      case '--help': case '-h': out.help = true; break;
      default: throw new Error(`unknown argument ${arg}\n${usage()}`);
    }
  }
  return out;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
if (args.help) {
  process.stderr.write(`${usage()}\n`);
  process.exit(0);
}

const emu = await startDiscordEmulator(args.config);
process.stdout.write(`${JSON.stringify({ api: emu.apiBase, gateway: emu.gatewayUrl, control: emu.controlBase, port: emu.port })}\n`);

let stopping = false;
async function stop(why) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`discord emulator: stopping (${why})\n`);
  await emu.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
try {
  const st = fs.fstatSync(0);
  if (st.isFIFO() || st.isSocket()) {
    process.stdin.on('end', () => void stop('stdin closed'));
    process.stdin.on('error', () => void stop('stdin error'));
    process.stdin.resume();
  }
} catch { /* no stdin */ }
