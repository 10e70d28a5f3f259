#!/usr/bin/env bash
# Local test services for AtlasRelay, all on 127.0.0.1, all state under <repo>/.sandbox/:
#   seaweedfs  S3 server          http://127.0.0.1:8333   (.sandbox/seaweedfs/)
#   moto       AWS API mock       http://127.0.0.1:5055   (.sandbox/moto/)
#   postgres   PostgreSQL 15      127.0.0.1:55432         (.sandbox/postgres/, see note below)
#
# Usage: scripts/services.sh start|stop|status|env|clean
#   start   start whatever is not running (idempotent), wait until ready, write .sandbox/env
#   stop    stop all three (tolerant of already-stopped ones)
#   status  print each service's state; exit 1 if any is down
#   env     print the path of the env file (source it: `. "$(scripts/services.sh env)"`)
#   clean   stop, then delete .sandbox (and the out-of-tree PostgreSQL folder, if one was used)
#
# Env overrides: PYTHON (default python3), SERVICES_TIMEOUT (readiness timeout, s, default 90).
#
# PostgreSQL note: initdb/postgres refuse to run as root, so as root the cluster is run as the
# `postgres` system user (runuser). That user must be able to traverse every parent folder of
# .sandbox/postgres, and the socket path must fit the 107-byte Unix limit. If either fails (e.g. the
# repo is under /root, which is mode 0700), the cluster lives in /tmp/atlasrelay-pg-<hash of the
# sandbox path>/ instead and .sandbox/postgres is a symlink to it; `clean` removes both.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
SANDBOX="$REPO_ROOT/.sandbox"
ENV_FILE="$SANDBOX/env"
PYTHON="${PYTHON:-python3}"
TIMEOUT="${SERVICES_TIMEOUT:-90}"
HOST=127.0.0.1

S3_PORT=8333
MOTO_PORT=5055
PG_PORT=55432
PG_USER=relay
PG_PASSWORD=relay-sandbox
PG_DB=relay
ADMIN_KEY=relayadmin
ADMIN_SECRET=relay-admin-secret
READER_KEY=relayreader
READER_SECRET=relay-reader-secret

WEED_DIR="$SANDBOX/seaweedfs"
MOTO_DIR="$SANDBOX/moto"
PG_LINK="$SANDBOX/postgres"

die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }
err() { printf 'services: ERROR: %s\n' "$*" >&2; }
now() { local t="${EPOCHREALTIME:-}"; [ -n "$t" ] || t="$(date +%s.%N)"; printf '%s' "${t/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
show_log() { # name file
  if [ -f "$2" ]; then
    printf -- '--- last 30 lines of %s ---\n' "$2" >&2
    tail -n 30 "$2" >&2
    printf -- '--- end of %s ---\n' "$2" >&2
  else
    printf '(no log at %s)\n' "$2" >&2
  fi
}

scripts_dir() { "$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'; }

pg_bindir() {
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then echo /usr/lib/postgresql/15/bin; return; fi
  local d
  # shellcheck disable=SC2012 # fixed, simple paths
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
  return 1
}

# True if PID is alive (zombies count as dead) and its command line contains $2.
pid_alive() {
  local pid="$1" want="$2" state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)" || return 1
  [ "$state" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want"
}
# shellcheck disable=SC2015 # "|| true": a missing or empty file just means no PID
read_pid() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }

# spawn PIDFILE LOGFILE CMD...: run CMD detached in its own session (setsid), stdin from /dev/null,
# output to LOGFILE. The PID file is written by the process itself right before it execs CMD, so it
# is CMD's PID even when setsid has to fork (it does when the caller runs with job control).
spawn() {
  local pidfile="$1" logfile="$2"
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$, $0 and $@ are for the inner bash
  setsid bash -c 'echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" \
    </dev/null >"$logfile" 2>&1 9>&- &
  local _
  for _ in $(seq 1 100); do
    [ -s "$pidfile" ] && return 0
    sleep 0.05
  done
  err "could not start: $* (no PID file after 5s)"
  return 1
}

# ------------------------------------------------------------------------------------ prerequisites
ensure_tools() {
  local need=0 sd
  # Prints the scripts folder if the moto server's modules are importable (without importing them).
  sd="$("$PYTHON" -c 'import sysconfig, importlib.util as u
ok = all(u.find_spec(m) for m in ("moto", "flask", "flask_cors", "werkzeug"))
print(sysconfig.get_path("scripts") if ok else "")' 2>/dev/null || true)"
  [ -n "$sd" ] && [ -x "$sd/weed" ] && [ -x "$sd/moto_server" ] || need=1
  pg_bindir >/dev/null || need=1
  if [ "$need" = 1 ]; then
    echo "services: some tools are missing; running scripts/setup.sh"
    "$SCRIPT_DIR/setup.sh"
    sd="$(scripts_dir)"
  fi
  WEED_BIN="$sd/weed"
  MOTO_BIN="$sd/moto_server"
  PG_BIN="$(pg_bindir)" || die "PostgreSQL binaries not found (run scripts/setup.sh)"
}

sq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; } # single-quote for the env file

write_env() {
  mkdir -p "$SANDBOX/aws"
  : >>"$SANDBOX/aws/config"
  : >>"$SANDBOX/aws/credentials"
  local tmp="$ENV_FILE.tmp.$$"
  {
    echo "# Generated by scripts/services.sh; source it (bash) or parse 'export NAME=value' lines."
    printf 'export %s=%s\n' \
      ATLAS_RELAY_SANDBOX "$(sq "$SANDBOX")" \
      AWS_ENDPOINT_URL "$(sq "http://$HOST:$MOTO_PORT")" \
      AWS_ENDPOINT_URL_S3 "$(sq "http://$HOST:$S3_PORT")" \
      ATLAS_RELAY_S3_ENDPOINT "$(sq "http://$HOST:$S3_PORT")" \
      ATLAS_RELAY_MOTO_ENDPOINT "$(sq "http://$HOST:$MOTO_PORT")" \
      AWS_ACCESS_KEY_ID "$(sq "$ADMIN_KEY")" \
      AWS_SECRET_ACCESS_KEY "$(sq "$ADMIN_SECRET")" \
      ATLAS_RELAY_S3_READER_ACCESS_KEY_ID "$(sq "$READER_KEY")" \
      ATLAS_RELAY_S3_READER_SECRET_ACCESS_KEY "$(sq "$READER_SECRET")" \
      AWS_REGION "'us-east-1'" \
      AWS_DEFAULT_REGION "'us-east-1'" \
      AWS_CONFIG_FILE "$(sq "$SANDBOX/aws/config")" \
      AWS_SHARED_CREDENTIALS_FILE "$(sq "$SANDBOX/aws/credentials")" \
      PGHOST "'$HOST'" \
      PGPORT "'$PG_PORT'" \
      PGUSER "$(sq "$PG_USER")" \
      PGPASSWORD "$(sq "$PG_PASSWORD")" \
      PGDATABASE "$(sq "$PG_DB")" \
      PGSSLMODE "'verify-full'" \
      PGSSLROOTCERT "$(sq "$SANDBOX/postgres-ca.crt")"
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------------------- SeaweedFS
weed_s3_json() {
  cat >"$WEED_DIR/s3.json" <<EOF
{
  "identities": [
    {
      "name": "relay-admin",
      "credentials": [{ "accessKey": "$ADMIN_KEY", "secretKey": "$ADMIN_SECRET" }],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    },
    {
      "name": "relay-reader",
      "credentials": [{ "accessKey": "$READER_KEY", "secretKey": "$READER_SECRET" }],
      "actions": ["Read", "List"]
    }
  ]
}
EOF
}

# Signed ListBuckets with the admin key; succeeds only once S3 auth is loaded.
weed_authed_ok() {
  curl -fsS -o /dev/null --max-time 5 --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$ADMIN_KEY:$ADMIN_SECRET" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "http://$HOST:$S3_PORT/" 2>/dev/null
}
weed_healthy() {
  curl -fsS -o /dev/null --max-time 5 "http://$HOST:$S3_PORT/healthz" 2>/dev/null && weed_authed_ok
}
weed_pid() { read_pid "$WEED_DIR/pid"; }
weed_running() { pid_alive "$(weed_pid)" weed; }

weed_spawn() { # sets WEED_STATE=already|spawned
  mkdir -p "$WEED_DIR/data" "$WEED_DIR/tmp" "$WEED_DIR/logs" "$WEED_DIR/run"
  if weed_running; then
    WEED_STATE=already
    return 0
  fi
  rm -f "$WEED_DIR/pid"
  weed_s3_json
  if port_open "$S3_PORT"; then
    err "seaweedfs: port $S3_PORT is already in use by a process not started from $SANDBOX"
    return 1
  fi
  local sock_args=()
  # Keep the Unix sockets in the sandbox when the path fits the 107-byte limit (else weed uses /tmp).
  if [ $((${#WEED_DIR} + 32)) -lt 107 ]; then
    sock_args=("-s3.localSocket=$WEED_DIR/run/s3.sock" "-filer.localSocket=$WEED_DIR/run/filer.sock")
  fi
  WEED_T0="$(now)"
  # -logdir: weed's glog files (default: the system temp folder). TMPDIR: anything else it puts
  # in temp. -master.telemetry=false: never phone home. -volume.max: every bucket is a collection
  # with volumes of its own, and the default (free disk / 128 MB) runs out after some hundred
  # test buckets; empty volumes cost no disk.
  spawn "$WEED_DIR/pid" "$WEED_DIR/weed.log" \
    env TMPDIR="$WEED_DIR/tmp" "$WEED_BIN" -logdir="$WEED_DIR/logs" mini \
    -dir="$WEED_DIR/data" -ip="$HOST" -ip.bind="$HOST" -s3.port="$S3_PORT" \
    -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.telemetry=false -volume.max=4000 \
    -s3.config="$WEED_DIR/s3.json" "${sock_args[@]}" || return 1
  WEED_STATE=spawned
}

# Waits until a service is healthy. PREFIX_healthy, PREFIX_running and PREFIX_pid are its probes;
# STATE is "already" (found running) or "spawned"; T0 its spawn time; PROBE says what is checked.
wait_ready() { # prefix name state t0 log url probe
  local prefix="$1" name="$2" state="$3" t0="$4" log="$5" url="$6" probe="$7"
  local deadline=$((SECONDS + TIMEOUT))
  while ! "${prefix}_healthy"; do
    if ! "${prefix}_running"; then
      if [ "$state" = already ]; then
        err "$name: pid $("${prefix}_pid") is running but not healthy; try: $0 stop && $0 start"
      else
        err "$name exited during startup"
      fi
      show_log "$name" "$log"
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      err "$name not ready after ${TIMEOUT}s ($probe)"
      show_log "$name" "$log"
      return 1
    fi
    sleep 0.2
  done
  if [ "$state" = already ]; then
    printf '%-10s already running (pid %s)  %s\n' "$name" "$("${prefix}_pid")" "$url"
  else
    printf '%-10s ready in %s (pid %s)  %s\n' "$name" "$(elapsed "$t0")" "$("${prefix}_pid")" "$url"
  fi
}

weed_wait() {
  wait_ready weed seaweedfs "$WEED_STATE" "${WEED_T0:-0}" "$WEED_DIR/weed.log" "http://$HOST:$S3_PORT" \
    "healthz + signed ListBuckets on :$S3_PORT"
}

# --------------------------------------------------------------------------------------------- moto
moto_healthy() { curl -fsS -o /dev/null --max-time 5 "http://$HOST:$MOTO_PORT/moto-api/" 2>/dev/null; }
moto_pid() { read_pid "$MOTO_DIR/pid"; }
moto_running() { pid_alive "$(moto_pid)" moto_server; }

moto_spawn() {
  mkdir -p "$MOTO_DIR"
  if moto_running; then
    MOTO_STATE=already
    return 0
  fi
  rm -f "$MOTO_DIR/pid"
  if port_open "$MOTO_PORT"; then
    err "moto: port $MOTO_PORT is already in use by a process not started from $SANDBOX"
    return 1
  fi
  MOTO_T0="$(now)"
  # Run the console script itself (its shebang is the real interpreter, not a pyenv shim).
  # MOTO_ACCOUNT_ID is deliberately not set (see SERVICES.md: per-account isolation via STS).
  spawn "$MOTO_DIR/pid" "$MOTO_DIR/moto.log" \
    env -u MOTO_ACCOUNT_ID "$MOTO_BIN" -H "$HOST" -p "$MOTO_PORT" || return 1
  MOTO_STATE=spawned
}

moto_wait() {
  wait_ready moto moto "$MOTO_STATE" "${MOTO_T0:-0}" "$MOTO_DIR/moto.log" "http://$HOST:$MOTO_PORT" \
    "GET http://$HOST:$MOTO_PORT/moto-api/"
}

# ----------------------------------------------------------------------------------------- postgres
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# Runs a command as the cluster owner (pg_ctl, initdb and postgres refuse root). fd 9 (the
# services lock) is closed so the postmaster that pg_ctl leaves behind does not hold the lock.
as_pg() { if [ "$IS_ROOT" = 1 ]; then runuser -u postgres -- "$@" 9>&-; else "$@" 9>&-; fi; }

pg_fallback_home() {
  local h
  h="$(printf '%s' "$SANDBOX" | cksum | cut -d' ' -f1)"
  echo "/tmp/atlasrelay-pg-$h"
}

# Sets PG_HOME (real folder with data/, run/, postgres.log), PG_DATA, PG_RUN, PG_LOG.
# With $1 = create, also decides where the cluster lives and creates the folders.
pg_locate() {
  if [ -L "$PG_LINK" ]; then
    PG_HOME="$(readlink "$PG_LINK")"
  else
    PG_HOME="$PG_LINK"
  fi
  if [ "${1:-}" = create ] && [ ! -L "$PG_LINK" ]; then
    local ok=1
    mkdir -p "$PG_LINK"
    [ $((${#PG_LINK} + 24)) -lt 107 ] || ok=0 # <dir>/run/.s.PGSQL.55432 must fit a socket path
    if [ "$IS_ROOT" = 1 ] && [ "$ok" = 1 ]; then
      id postgres >/dev/null 2>&1 || die "postgres: system user 'postgres' not found (run scripts/setup.sh)"
      chown postgres:postgres "$PG_LINK"
      runuser -u postgres -- test -w "$PG_LINK" -a -x "$PG_LINK" 2>/dev/null || ok=0
    fi
    if [ "$ok" = 0 ]; then
      [ ! -e "$PG_LINK/data" ] ||
        die "postgres: $PG_LINK/data exists but is not usable by the postgres user (parent folder not traversable, or path too long); run: $0 clean"
      PG_HOME="$(pg_fallback_home)"
      rm -rf "$PG_LINK"
      ln -s "$PG_HOME" "$PG_LINK"
    fi
  fi
  if [ "${1:-}" = create ]; then
    mkdir -p "$PG_HOME"
    if [ "$IS_ROOT" = 1 ]; then chown postgres:postgres "$PG_HOME"; fi
    chmod 700 "$PG_HOME"
    as_pg mkdir -p "$PG_HOME/run"
    as_pg test -w "$PG_HOME" ||
      die "postgres: $PG_HOME is not writable by the user that runs PostgreSQL"
  fi
  PG_DATA="$PG_HOME/data"
  PG_RUN="$PG_HOME/run"
  PG_LOG="$PG_HOME/postgres.log"
}

# Running = the postmaster named in postmaster.pid is alive (a zombie left by a SIGKILL, which
# `pg_ctl status` would still count, is not).
pg_running() { pid_alive "$(pg_pid)" postgres; }
pg_ready() { "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 3; }
# shellcheck disable=SC2015
pg_pid() { [ -f "$PG_DATA/postmaster.pid" ] && head -n 1 "$PG_DATA/postmaster.pid" | tr -dc '0-9' || true; }

# TLS like RDS with rds.force_ssl=1: a private CA and a server certificate (DNS:localhost,
# IP:127.0.0.1), made at start when missing or about to expire. The CA is copied to
# $SANDBOX/postgres-ca.crt for clients (PGSSLROOTCERT in the env file).
pg_tls() {
  local tls="$PG_HOME/tls" ca_copy="$SANDBOX/postgres-ca.crt"
  if as_pg test -f "$tls/server.crt" && [ -f "$ca_copy" ] &&
    as_pg openssl x509 -checkend 86400 -noout -in "$tls/server.crt" >/dev/null 2>&1; then
    return 0
  fi
  command -v openssl >/dev/null 2>&1 || die "postgres: openssl not found (run scripts/setup.sh)"
  as_pg rm -rf "$tls"
  as_pg mkdir -p "$tls"
  as_pg sh -c "cd '$tls' && umask 077 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=Atlas Relay sandbox CA' \
      -keyout ca.key -out ca.crt -addext 'basicConstraints=critical,CA:TRUE' \
      -addext 'keyUsage=critical,keyCertSign,cRLSign' &&
    openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr &&
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext &&
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
      -extfile server.ext -out server.crt" >"$PG_HOME/tls.log" 2>&1 ||
    { cat "$PG_HOME/tls.log" >&2; die "postgres: making the TLS certificate failed"; }
  as_pg cat "$tls/ca.crt" >"$ca_copy.tmp.$$" && mv -f "$ca_copy.tmp.$$" "$ca_copy"
  chmod 644 "$ca_copy"
}

pg_conf() { # regenerated on every start so a moved sandbox keeps working
  # TCP takes TLS only (hostssl; a plain connection is rejected, as RDS with rds.force_ssl=1);
  # the private Unix socket (its folder is mode 0700) stays trusted for the bootstrap.
  cat <<EOF | as_pg tee "$PG_DATA/sandbox_hba.conf" >/dev/null
# Written by scripts/services.sh on every start; do not edit.
local     all all                trust
hostssl   all all 127.0.0.1/32   scram-sha-256
hostssl   all all ::1/128        scram-sha-256
hostnossl all all 0.0.0.0/0      reject
hostnossl all all ::/0           reject
EOF
  cat <<EOF | as_pg tee "$PG_DATA/sandbox.conf" >/dev/null
# Written by scripts/services.sh on every start; do not edit.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
hba_file = '$PG_DATA/sandbox_hba.conf'
ssl = on
ssl_cert_file = '$PG_HOME/tls/server.crt'
ssl_key_file = '$PG_HOME/tls/server.key'
ssl_min_protocol_version = 'TLSv1.2'
# Throwaway test cluster: durability off for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

pg_bootstrap_sql() {
  cat <<EOF
SELECT format('CREATE ROLE %I SUPERUSER LOGIN', '$PG_USER')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
ALTER ROLE "$PG_USER" WITH SUPERUSER LOGIN PASSWORD '$PG_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DB', '$PG_USER')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
EOF
}

pg_start() {
  local t0
  t0="$(now)"
  pg_locate create
  local deadline=$((SECONDS + TIMEOUT))
  if pg_running; then
    until pg_ready; do
      if [ $SECONDS -ge $deadline ] || ! pg_running; then
        err "postgres: running (pid $(pg_pid)) but not accepting connections on $HOST:$PG_PORT; try: $0 stop && $0 start"
        show_log postgres "$PG_LOG"
        return 1
      fi
      sleep 0.2
    done
    printf '%-10s already running (pid %s)  %s:%s\n' postgres "$(pg_pid)" "$HOST" "$PG_PORT"
    return 0
  fi
  # A postmaster.pid whose process is gone (crash, SIGKILL) would make the new postmaster refuse
  # to start while the dead one is still an unreaped zombie.
  as_pg rm -f "$PG_DATA/postmaster.pid"
  if port_open "$PG_PORT"; then
    err "postgres: port $PG_PORT is already in use by a process not started from $SANDBOX"
    return 1
  fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    as_pg rm -rf "$PG_DATA"
    # Bootstrap superuser "postgres": trusted on the private Unix socket only (the socket folder
    # is mode 0700 under .sandbox); TCP on 127.0.0.1 requires a SCRAM password.
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >"$PG_HOME/initdb.log" 2>&1; then
      err "postgres: initdb failed"
      show_log postgres "$PG_HOME/initdb.log"
      return 1
    fi
    echo "include_if_exists = 'sandbox.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  as_pg chmod 700 "$PG_RUN"
  pg_tls
  pg_conf
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" start >/dev/null 2>&1; then
    err "postgres: pg_ctl start failed or timed out after ${TIMEOUT}s"
    show_log postgres "$PG_LOG"
    return 1
  fi
  deadline=$((SECONDS + TIMEOUT))
  until pg_ready; do
    if [ $SECONDS -ge $deadline ]; then
      err "postgres: pg_isready still failing after ${TIMEOUT}s"
      show_log postgres "$PG_LOG"
      return 1
    fi
    sleep 0.2
  done
  local out
  if ! out="$(pg_bootstrap_sql | as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres 2>&1)"; then
    err "postgres: creating role/database '$PG_USER' failed: $out"
    return 1
  fi
  printf '%-10s ready in %s (pid %s)  %s:%s\n' postgres "$(elapsed "$t0")" "$(pg_pid)" "$HOST" "$PG_PORT"
}

pg_stop() {
  pg_locate
  if ! pg_running; then
    echo "postgres   stopped"
    return 0
  fi
  if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 60 -m fast stop >/dev/null 2>&1; then
    echo "postgres   stopped"
  else
    err "postgres: pg_ctl stop failed"
    show_log postgres "$PG_LOG"
    return 1
  fi
}

# ------------------------------------------------------------------------------- stop by PID file
term_pid() { # name pidfile cmdline-pattern
  local pid
  pid="$(read_pid "$2")"
  if pid_alive "$pid" "$3"; then
    # setsid made it a process-group leader: signal the whole group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    return 0
  fi
  rm -f "$2"
  return 1
}
wait_pid() { # name pidfile cmdline-pattern
  local pid deadline=$((SECONDS + 30))
  pid="$(read_pid "$2")"
  while pid_alive "$pid" "$3"; do
    if [ $SECONDS -ge $deadline ]; then
      err "$1 (pid $pid) did not exit in 30s after SIGTERM; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
  done
  rm -f "$2"
  printf '%-10s stopped\n' "$1"
}

# ------------------------------------------------------------------------------------------ commands
with_lock() {
  mkdir -p "$SANDBOX"
  exec 9>"$SANDBOX/.lock"
  flock -w 180 9 || die "another scripts/services.sh is still running (lock $SANDBOX/.lock)"
}

cmd_start() {
  with_lock
  ensure_tools
  write_env
  local failed=()
  WEED_STATE=failed MOTO_STATE=failed
  weed_spawn || failed+=(seaweedfs)
  moto_spawn || failed+=(moto)
  # PostgreSQL (initdb + pg_ctl -w) starts in a background subshell while we wait for the others.
  # Its one-line report is printed last so the output order is stable.
  local pg_out="$SANDBOX/.pg_start.out"
  pg_start >"$pg_out" 9>&- &
  local pg_job=$!
  if [ "$WEED_STATE" != failed ]; then weed_wait || failed+=(seaweedfs); fi
  if [ "$MOTO_STATE" != failed ]; then moto_wait || failed+=(moto); fi
  wait "$pg_job" || failed+=(postgres)
  cat "$pg_out"
  rm -f "$pg_out"
  if [ "${#failed[@]}" -gt 0 ]; then
    err "failed to start: ${failed[*]} (others left running; stop with: $0 stop)"
    exit 1
  fi
  echo "env file: $ENV_FILE  (load it with: . $ENV_FILE)"
}

cmd_stop() {
  with_lock
  PG_BIN="$(pg_bindir)" || PG_BIN=""
  local rc=0 w=0 m=0
  term_pid seaweedfs "$WEED_DIR/pid" weed && w=1
  term_pid moto "$MOTO_DIR/pid" moto_server && m=1
  local pg_line="postgres   stopped (no binaries)"
  if [ -n "$PG_BIN" ]; then pg_line="$(pg_stop)" || rc=1; fi
  if [ "$w" = 1 ]; then wait_pid seaweedfs "$WEED_DIR/pid" weed; else echo "seaweedfs  stopped"; fi
  if [ "$m" = 1 ]; then wait_pid moto "$MOTO_DIR/pid" moto_server; else echo "moto       stopped"; fi
  [ -z "$pg_line" ] || echo "$pg_line"
  return $rc
}

# Prints one HTTP service's state; fails unless it is running and healthy.
http_status() { # prefix name cmdline-pattern port
  local pid
  pid="$("${1}_pid")"
  if pid_alive "$pid" "$3" && "${1}_healthy"; then
    printf '%-10s running (pid %s)  http://%s:%s\n' "$2" "$pid" "$HOST" "$4"
  elif pid_alive "$pid" "$3"; then
    printf '%-10s unhealthy (pid %s, not answering on :%s)\n' "$2" "$pid" "$4"
    return 1
  else
    printf '%-10s stopped\n' "$2"
    return 1
  fi
}

cmd_status() {
  local down=0 pid
  PG_BIN="$(pg_bindir)" || PG_BIN=""
  http_status weed seaweedfs weed "$S3_PORT" || down=1
  http_status moto moto moto_server "$MOTO_PORT" || down=1
  pg_locate
  if [ -n "$PG_BIN" ] && pg_running && pg_ready; then
    printf '%-10s running (pid %s)  %s:%s  data %s\n' postgres "$(pg_pid)" "$HOST" "$PG_PORT" "$PG_DATA"
  elif [ -n "$PG_BIN" ] && pg_running; then
    printf '%-10s unhealthy (pid %s, not accepting connections on :%s)\n' postgres "$(pg_pid)" "$PG_PORT"; down=1
  else
    printf '%-10s stopped\n' postgres; down=1
  fi
  if [ -f "$ENV_FILE" ]; then echo "env file: $ENV_FILE"; fi
  return $down
}

cmd_clean() {
  cmd_stop
  local ext=""
  if [ -L "$PG_LINK" ]; then ext="$(readlink "$PG_LINK")"; fi
  case "$ext" in /tmp/atlasrelay-pg-*) rm -rf "$ext" ;; esac
  rm -rf "$SANDBOX"
  echo "removed $SANDBOX${ext:+ and $ext}"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "$ENV_FILE" ;;
  clean) cmd_clean ;;
  *)
    echo "usage: $0 start|stop|status|env|clean" >&2
    exit 2
    ;;
esac
