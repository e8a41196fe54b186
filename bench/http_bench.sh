#!/usr/bin/env bash
# HTTP throughput and tail latency of pitwall-server's GET /healthz against nginx serving the same
# bytes as a static file: the ratio says how far the request path is from a well-known baseline.
#
# Both servers get one core (one I/O thread / one worker, pinned to CPU 0 when there are two or more)
# and wrk runs on the other; loopback only, throw-away data directory, everything stopped on exit.
# Needs build/bin/pitwall-server (cmake --preset release && cmake --build --preset release), wrk, nginx
# and curl. BENCH_BIN_DIR names another directory holding pitwall-server (not PITWALL_*: the server
# refuses unknown PITWALL_ variables). Prints wrk's reports, then one summary line:
#   http_rps=<n> http_p99_ms=<x> nginx_rps=<n> nginx_p99_ms=<x> ratio=<http_rps/nginx_rps>
set -euo pipefail

readonly CONNECTIONS=32
readonly WARMUP_SECONDS=2
readonly MEASURE_SECONDS=8
readonly STARTUP_TIMEOUT_SECONDS=30

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

server_binary=${BENCH_BIN_DIR:-build/bin}/pitwall-server
nginx_binary=/usr/sbin/nginx
if [[ ! -x $server_binary ]]; then
    echo "http_bench: $server_binary not built (cmake --preset release && cmake --build --preset release)" >&2
    exit 1
fi
for tool in wrk curl "$nginx_binary"; do
    if ! command -v "$tool" >/dev/null; then
        echo "http_bench: $tool not found (scripts/install-deps.sh installs it)" >&2
        exit 1
    fi
done

# Server on CPU 0, load generator on CPU 1, when the machine has two cores to give.
server_cpu=()
client_cpu=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pitwall-http-bench.XXXXXX")
server_pid=""
nginx_pid=""

# Stops a child: SIGTERM, up to 5 s for a graceful exit, then SIGKILL.
stop_process() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    stop_process "$server_pid"
    stop_process "$nginx_pid"
    rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port on 127.0.0.1 that nobody listens on (below the kernel's ephemeral range, so that no
# outgoing connection takes it meanwhile).
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "http_bench: no free port found" >&2
    return 1
}

# wrk's report -> "<requests/sec> <p99 in ms>"; fails when wrk saw errors or non-2xx answers.
summarize_wrk() {
    local report=$1
    if grep -qE 'Non-2xx or 3xx responses|Socket errors' "$report"; then
        echo "http_bench: wrk reported errors (see above)" >&2
        return 1
    fi
    awk '
        $1 == "Requests/sec:" { rps = $2 }
        $1 == "99%" {
            v = $2
            if (v ~ /us$/) { sub(/us$/, "", v); p99 = v / 1000 }
            else if (v ~ /ms$/) { sub(/ms$/, "", v); p99 = v }
            else if (v ~ /s$/) { sub(/s$/, "", v); p99 = v * 1000 }
        }
        END {
            if (rps == "" || p99 == "") exit 1
            printf "%.0f %.3f\n", rps, p99
        }' "$report"
}

# Warm-up, then the measured run; prints wrk's report, which stays in $scratch/wrk-<name>.txt.
run_wrk() {
    local name=$1 url=$2
    "${client_cpu[@]}" timeout $((WARMUP_SECONDS + 10)) \
        wrk -t1 -c"$CONNECTIONS" -d"${WARMUP_SECONDS}s" "$url" >/dev/null
    "${client_cpu[@]}" timeout $((MEASURE_SECONDS + 10)) \
        wrk -t1 -c"$CONNECTIONS" -d"${MEASURE_SECONDS}s" --latency "$url" >"$scratch/wrk-$name.txt"
    echo "== $name: $url"
    cat "$scratch/wrk-$name.txt"
}

# --- pitwall-server -----------------------------------------------------------------------------------
mkdir "$scratch/data"
PITWALL_HTTP_LISTEN=127.0.0.1:0 \
    PITWALL_HTTP_IO_THREADS=1 \
    PITWALL_HTTP_SHUTDOWN_GRACE_S=1 \
    PITWALL_DATA_DIR="$scratch/data" \
    PITWALL_LOG_ACCESS_LOG=false \
    PITWALL_LOG_LEVEL=warn \
    "${server_cpu[@]}" "$server_binary" >"$scratch/pitwall.out" 2>"$scratch/pitwall.err" &
server_pid=$!

server_url=""
for _ in $(seq $((STARTUP_TIMEOUT_SECONDS * 10))); do
    server_url=$(sed -n 's|^Pitwall is running at \(http://[^ ]*\)$|\1|p' "$scratch/pitwall.out")
    [[ -n $server_url ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "http_bench: pitwall-server exited during start-up:" >&2
        cat "$scratch/pitwall.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z $server_url ]]; then
    echo "http_bench: pitwall-server did not start within ${STARTUP_TIMEOUT_SECONDS}s:" >&2
    cat "$scratch/pitwall.err" >&2
    exit 1
fi

# --- nginx with the same body as a static file ----------------------------------------------------------
# Its own world-readable directory: nginx workers started by root run as nobody.
www=$scratch/www
mkdir -p "$www" "$scratch/nginx/temp"
chmod 755 "$scratch" "$www"
curl -fsS --max-time 5 "$server_url/healthz" -o "$www/healthz"
chmod 644 "$www/healthz"
content_type=$(curl -fsS --max-time 5 -o /dev/null -w '%{content_type}' "$server_url/healthz")

nginx_port=$(free_port)
cat >"$scratch/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=16;
    client_body_temp_path $scratch/nginx/temp/body;
    proxy_temp_path $scratch/nginx/temp/proxy;
    fastcgi_temp_path $scratch/nginx/temp/fastcgi;
    uwsgi_temp_path $scratch/nginx/temp/uwsgi;
    scgi_temp_path $scratch/nginx/temp/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        root $www;
        location = /healthz { default_type "$content_type"; }
    }
}
EOF
"${server_cpu[@]}" "$nginx_binary" -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" -g 'daemon off;' \
    2>"$scratch/nginx/stderr.log" &
nginx_pid=$!
nginx_url=http://127.0.0.1:$nginx_port
for _ in $(seq $((STARTUP_TIMEOUT_SECONDS * 10))); do
    curl -fsS --max-time 1 -o /dev/null "$nginx_url/healthz" 2>/dev/null && break
    if ! kill -0 "$nginx_pid" 2>/dev/null; then
        echo "http_bench: nginx exited during start-up:" >&2
        cat "$scratch/nginx/stderr.log" "$scratch/nginx/error.log" >&2 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done
if ! cmp -s "$www/healthz" <(curl -fsS --max-time 5 "$nginx_url/healthz"); then
    echo "http_bench: nginx does not serve the same body as pitwall-server" >&2
    exit 1
fi

# --- measure ---------------------------------------------------------------------------------------------
echo "body: $(cat "$www/healthz") ($(stat -c %s "$www/healthz") bytes, $content_type)"
echo "wrk: 1 thread, $CONNECTIONS connections, ${WARMUP_SECONDS}s warm-up + ${MEASURE_SECONDS}s measured each"
run_wrk pitwall-server "$server_url/healthz"
run_wrk nginx "$nginx_url/healthz"

pitwall_summary=$(summarize_wrk "$scratch/wrk-pitwall-server.txt")
nginx_summary=$(summarize_wrk "$scratch/wrk-nginx.txt")
read -r http_rps http_p99 <<<"$pitwall_summary"
read -r nginx_rps nginx_p99 <<<"$nginx_summary"
ratio=$(awk -v a="$http_rps" -v b="$nginx_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
echo "http_rps=$http_rps http_p99_ms=$http_p99 nginx_rps=$nginx_rps nginx_p99_ms=$nginx_p99 ratio=$ratio"
