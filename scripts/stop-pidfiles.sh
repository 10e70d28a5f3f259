#!/usr/bin/env bash
# Stops the processes named by PID files, tolerating files whose process is gone.
#
# Usage: scripts/stop-pidfiles.sh PATTERN PATH...
#   PATTERN  a string the process's command line must contain (e.g. atlassian-simulator): a PID
#            file whose process is gone, a zombie, or whose PID now belongs to another program is
#            stale; it is removed and nothing is signalled.
#   PATH     a PID file, or a folder whose *.pid files are used.
# Each live match gets SIGTERM, then SIGKILL if it has not exited after STOP_GRACE seconds
# (default 10). Every PID file is removed. Exit status: 0 done (nothing left running),
# 1 a process survived SIGKILL, 2 bad usage.
set -euo pipefail

usage() { echo "usage: $0 PATTERN PIDFILE-OR-FOLDER..." >&2; exit 2; }
[ "$#" -ge 2 ] || usage
pattern="$1"
shift
[ -n "$pattern" ] || usage
grace="${STOP_GRACE:-10}"

# True if PID is alive (zombies count as dead) and its command line contains the pattern.
alive() {
  local pid="$1" state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

files=()
for path in "$@"; do
  if [ -d "$path" ]; then
    for file in "$path"/*.pid; do [ -f "$file" ] && files+=("$file"); done
  elif [ -f "$path" ]; then
    files+=("$path")
  fi
done

rc=0
for file in "${files[@]+"${files[@]}"}"; do
  name="$(basename "$file" .pid)"
  pid="$(tr -dc '0-9' <"$file" || true)"
  if ! alive "$pid"; then
    rm -f "$file"
    echo "$name: not running (stale PID file removed)"
    continue
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if alive "$pid"; then
    echo "$name: pid $pid did not exit ${grace}s after SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
  fi
  if alive "$pid"; then
    echo "$name: pid $pid survived SIGKILL; stop it by hand" >&2
    rc=1
    continue
  fi
  rm -f "$file"
  echo "$name: stopped"
done
exit "$rc"
