#!/usr/bin/env bash
# Installs every Debian package (and npm package for tests) Pitwall needs.
# Idempotent: when everything is present it does nothing and prints one line.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format
  clang-14 libclang-rt-14-dev               # libFuzzer targets
  # libraries (see docs/ARCHITECTURE.md for why each one)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libcurl4-openssl-dev
  libsqlite3-dev libpq-dev libhiredis-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libicu-dev libkainjow-mustache-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  coinor-libcbc-dev                         # bench only: the planner's optimality oracle
  # servers the tests and benchmarks start on loopback
  redis-server postgresql nginx-light wrk curl
  sqlite3                                   # the identity flow tests read the database file
  chromium                                  # browser tests (driven by npm playwright-core)
)

missing=()
for p in "${debian_packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# Node.js and npm (test peers only): keep whatever the machine has, e.g. a NodeSource build.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these services on install; Pitwall's tests start their own on loopback.
  for svc in redis-server postgresql nginx; do
    "${sudo_cmd[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || "${sudo_cmd[@]}" service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# npm packages for test peers live in tests/node (package-lock.json pins them).
if [[ -f tests/node/package.json ]]; then
  if [[ ! -d tests/node/node_modules ]] || [[ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]]; then
    echo "install-deps: npm ci in tests/node"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

[[ ${#missing[@]} -eq 0 ]] && echo "install-deps: all dependencies present"
exit 0
