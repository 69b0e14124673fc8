# shellcheck shell=bash
# Shared by every migration script: strict mode, connection helpers, identifier checks.
# Connection info comes only from the environment (explicit libpq URIs; PG* variables
# such as PGPASSWORD, PGSSLMODE or PGSSLROOTCERT still apply to them):
#   SOURCE_DATABASE_URL  dev (publisher) as its admin user, e.g. postgresql://dbadmin@payments-dev...:5432/payments
#   TARGET_DATABASE_URL  staging (subscriber) as its admin user
set -euo pipefail

MIGRATION_NAME="${MIGRATION_NAME:-payments_migration}"   # publication, subscription and slot name
MIGRATION_SCHEMAS="${MIGRATION_SCHEMAS:-public}"          # space-separated schemas to migrate
APP_ROLE="${APP_ROLE:-payments_app}"                      # the application's login role (fenced at cut-over)
REPLICATION_USER="${REPLICATION_USER:-migration_repl}"    # the subscriber's login on the source
FENCE_SCHEMA="pgmigrate"                                  # holds the fence/heartbeat table on both sides
# shellcheck disable=SC2034  # used by the scripts that source this file
MIGRATION_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S.%3N)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

need() {  # need VAR "what it is"
  [[ -n "${!1:-}" ]] || die "$1 is not set: $2"
}

# Names are interpolated into SQL; accept only plain lower-case identifiers (fail closed).
check_identifier() {
  [[ "$2" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "$1='$2' must be a plain lower-case SQL identifier"
}
check_identifier MIGRATION_NAME "$MIGRATION_NAME"
check_identifier APP_ROLE "$APP_ROLE"
check_identifier REPLICATION_USER "$REPLICATION_USER"
for _schema in $MIGRATION_SCHEMAS; do check_identifier MIGRATION_SCHEMAS "$_schema"; done
[[ "$MIGRATION_SCHEMAS" != *"$FENCE_SCHEMA"* ]] || die "MIGRATION_SCHEMAS must not include $FENCE_SCHEMA (the scripts own it)"

# SQL array literal of the migrated schemas, e.g. ARRAY['public','billing']::name[]
# shellcheck disable=SC2086  # word splitting intended: validated identifiers
SCHEMAS_SQL="ARRAY[$(printf "'%s'," $MIGRATION_SCHEMAS | sed 's/,$//')]::name[]"

_psql() {  # _psql URL [psql args...]: no psqlrc, stop on the first error, unaligned quiet output
  local url="$1"; shift
  psql "$url" --no-psqlrc --quiet --no-align --tuples-only -v ON_ERROR_STOP=1 \
    -v name="$MIGRATION_NAME" -v app="$APP_ROLE" -v repl="$REPLICATION_USER" -v fence="$FENCE_SCHEMA" "$@"
}
src() { need SOURCE_DATABASE_URL "libpq URI of the dev (source) database as its admin user"; _psql "$SOURCE_DATABASE_URL" "$@"; }
dst() { need TARGET_DATABASE_URL "libpq URI of the staging (target) database as its admin user"; _psql "$TARGET_DATABASE_URL" "$@"; }

# Tables of the migrated schemas (ordinary and partitioned roots), as "schema.table" lines.
# shellcheck disable=SC2034
TABLES_SQL="SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY ($SCHEMAS_SQL) ORDER BY 1"
