#!/usr/bin/env bash
# Real product databases for the tests, the demo and the benchmarks.
#
# Usage: scripts/product-db.sh create NAME jira|confluence
#        scripts/product-db.sh drop NAME
#        scripts/product-db.sh template jira|confluence   (prints the template's name)
#
# `create` makes database NAME a copy of a real product database: the dump in
# ../shared/reference/atlassian/real-db/ (a Jira 8 or a Confluence 6, dumped by pg_dump from
# real installations; SOURCE.md there), with PROD's own settings written in by
# scripts/sql/prod-settings-<product>.sql and the rows the dumps lack (mail servers, mail
# handlers, webhooks, trusted applications) by scripts/sql/prod-integrations-<product>.sql.
# The first call loads them into a template database named after a hash of those files, so a
# copy takes a fraction of a second and a changed file gives a new template; older templates of
# the product are dropped then.
#
# It connects with the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE,
# PGSSLROOTCERT), taken from .sandbox/env when PGHOST is not set. The roles the dumps name as
# owners (postgres, confluence) and the sandbox's application roles (jira, confluence) are
# created when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REAL_DB="${ATLAS_RELAY_REAL_DB:-$ROOT/../shared/reference/atlassian/real-db}"
die() { echo "product-db: $*" >&2; exit 1; }
[ -n "${PGHOST:-}" ] || { [ -f "$ROOT/.sandbox/env" ] && . "$ROOT/.sandbox/env"; } ||
  die "no PGHOST and no .sandbox/env; run scripts/services.sh start"
export PGDATABASE="${PGDATABASE:-postgres}"

psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
valid_name() { [[ "$1" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "'$1' is not a plain lower-case database name"; }

dump_of() {
  case "$1" in
    jira) echo "$REAL_DB/jira-8.x-pg11.sql.xz" ;;
    confluence) echo "$REAL_DB/confluence-6.x-pg94.sql.xz" ;;
    *) die "product must be jira or confluence, not '$1'" ;;
  esac
}

files_of() {
  local product="$1"
  echo "$(dump_of "$product")"
  echo "$ROOT/scripts/sql/prod-settings-$product.sql"
  [ -f "$ROOT/scripts/sql/prod-integrations-$product.sql" ] && echo "$ROOT/scripts/sql/prod-integrations-$product.sql"
  echo "$ROOT/scripts/product-db.sh"
}

template_name() {
  local hash
  # shellcheck disable=SC2046
  hash="$(cat $(files_of "$1") | sha256sum | cut -c1-10)"
  echo "atlas_real_${1}_$hash"
}

ensure_roles() {
  psql_admin <<'SQL'
SELECT 'CREATE ROLE postgres SUPERUSER' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'postgres') \gexec
SELECT 'CREATE ROLE jira LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jira') \gexec
SELECT 'CREATE ROLE confluence LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'confluence') \gexec
ALTER ROLE jira LOGIN PASSWORD 'jira-sandbox';
ALTER ROLE confluence LOGIN PASSWORD 'confluence-sandbox';
SQL
}

ensure_template() {
  local product="$1" name dump
  name="$(template_name "$product")"
  dump="$(dump_of "$product")"
  [ -f "$dump" ] || die "the real $product dump is missing: $dump (../shared/reference/atlassian/real-db/)"
  exists() { [ "$(psql -X -A -t -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }
  if exists "$name"; then echo "$name"; return; fi
  mkdir -p "$ROOT/.sandbox"
  exec 8>"$ROOT/.sandbox/product-db-$product.lock"
  flock 8
  if ! exists "$name"; then
    ensure_roles
    local building="${name}_building"
    psql_admin -c "DROP DATABASE IF EXISTS $building WITH (FORCE)" \
      -c "CREATE DATABASE $building ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    local extra=()
    [ -f "$ROOT/scripts/sql/prod-integrations-$product.sql" ] && extra=(-f "$ROOT/scripts/sql/prod-integrations-$product.sql")
    # The Confluence dump begins with `drop schema public cascade; create schema public;`.
    xz -dc "$dump" | psql -X -q -v ON_ERROR_STOP=1 -d "$building" >/dev/null ||
      die "loading $dump into $building failed"
    psql -X -q -v ON_ERROR_STOP=1 -d "$building" -f "$ROOT/scripts/sql/prod-settings-$product.sql" "${extra[@]}" >/dev/null ||
      die "writing PROD's settings into $building failed"
    psql_admin -c "ALTER DATABASE $building RENAME TO $name" -c "ALTER DATABASE $name IS_TEMPLATE true"
    # Older templates of this product (the files changed since).
    for old in $(psql -X -A -t -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'atlas\_real\_${product}\_%' AND datname <> '$name' AND datname NOT LIKE '%\_building'"); do
      psql_admin -c "ALTER DATABASE $old IS_TEMPLATE false" -c "DROP DATABASE IF EXISTS $old WITH (FORCE)" || true
    done
  fi
  flock -u 8
  echo "$name"
}

case "${1:-}" in
  create)
    [ $# -eq 3 ] || die "usage: $0 create NAME jira|confluence"
    valid_name "$2"
    template="$(ensure_template "$3")"
    psql_admin -c "CREATE DATABASE $2 TEMPLATE $template"
    ;;
  drop)
    [ $# -eq 2 ] || die "usage: $0 drop NAME"
    valid_name "$2"
    for db in "$2" "${2}_previous" "${2}_restore"; do psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
    ;;
  template)
    [ $# -eq 2 ] || die "usage: $0 template jira|confluence"
    ensure_template "$2"
    ;;
  *) die "usage: $0 create NAME jira|confluence | drop NAME | template jira|confluence" ;;
esac
