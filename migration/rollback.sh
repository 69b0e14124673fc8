#!/usr/bin/env bash
# Roll back a cut-over: fence the target, restore the app's writes on the source, point the
# app back at the source, resume replication. 07_cutover.sh does this itself when it fails
# before the switch; run this script when the problem shows after the switch.
# It refuses when the target has diverged (the app wrote there after the switch): those
# writes would be lost. Then either forward-fix, or copy them back first (docs/migration.md,
# "Rollback after the switch"); ROLLBACK_DISCARD_TARGET_WRITES=1 overrides, losing them.
#   CUTOVER_STATE_DIR  the directory 07_cutover.sh wrote (default ./cutover-state)
#   switch_endpoint.sh's variables, pointing at the SOURCE
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
state_dir="${CUTOVER_STATE_DIR:-$PWD/cutover-state}"
write_grants_file="$state_dir/source-write-grants.sql"
[[ -s "$write_grants_file" ]] || die "no $write_grants_file: nothing to roll back (no cut-over ran from this state directory)"

# Refuse without touching anything when the target already has writes the source lacks.
bash "$MIGRATION_DIR/08_verify.sh" >&2 || diverged=1
if [[ "${diverged:-0}" == "1" && "${ROLLBACK_DISCARD_TARGET_WRITES:-}" != "1" ]]; then
  die "the target took writes after the switch; rolling back would lose them (nothing changed; see docs/migration.md, 'Rollback after the switch')"
fi
# Fence the target, then compare again: a write may have landed since the first check.
dst <<SQL
SELECT format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %I FROM %I', s, :'app') FROM unnest($SCHEMAS_SQL) AS s \gexec
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = :'app';
SQL
if ! bash "$MIGRATION_DIR/08_verify.sh" >&2; then
  if [[ "${ROLLBACK_DISCARD_TARGET_WRITES:-}" != "1" ]]; then
    grep -E '^GRANT (INSERT|UPDATE|DELETE|TRUNCATE) ' "$state_dir/app-grants.sql" | dst -f - >/dev/null
    die "the target took writes during the rollback; its write privileges are restored and nothing else changed"
  fi
  log "ROLLBACK_DISCARD_TARGET_WRITES=1: rolling back although the target's newer writes will be lost"
fi
src -f "$write_grants_file"
bash "$MIGRATION_DIR/switch_endpoint.sh"
dst -c "ALTER SUBSCRIPTION $MIGRATION_NAME ENABLE"
rm -f "$write_grants_file"
log "rolled back: the app writes to the source again; replication to the target resumed"
