#!/usr/bin/env bash
# Step 7: the cut-over. Writes pause on the source for the length of this script; reads
# never stop. In order:
#   1 fence    revoke the app's write privileges on the source; end its transactions that
#              began before the fence (they could still commit), and prove it can no longer write
#   2 drain    write a fence row on the source and wait until the target has applied it
#              (commit order: everything before it is on the target, so the lag is 0)
#   3 detach   disable the subscription (the target is about to take writes)
#   4 sequences copy every sequence's last_value (sequences are not replicated)
#   5 verify   counts and checksums of every table, sequences not behind (08_verify.sh)
#   6 open     grant the app on the target exactly the privileges it had on the source
#   7 switch   point the app at the target (switch_endpoint.sh: secret or config file)
# Any failure before 7 restores the source's write privileges and re-enables the
# subscription: the app never left the source and nothing is lost.
#   CUTOVER_STATE_DIR      where the app's saved privileges go (default ./cutover-state); rollback.sh reads it
#   FENCE_TIMEOUT_SECONDS  how long to wait for the target to apply the fence row (default 60)
#   switch_endpoint.sh's variables (APP_SECRET_ID... or APP_ENDPOINT_FILE...)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
state_dir="${CUTOVER_STATE_DIR:-$PWD/cutover-state}"
fence_timeout="${FENCE_TIMEOUT_SECONDS:-60}"
[[ -n "${APP_SECRET_ID:-}${APP_ENDPOINT_FILE:-}" ]] || die "set the switch_endpoint.sh variables before fencing anything (APP_SECRET_ID... or APP_ENDPOINT_FILE...)"
mkdir -p "$state_dir"
grants_file="$state_dir/app-grants.sql"
write_grants_file="$state_dir/source-write-grants.sql"
[[ ! -s "$write_grants_file" ]] || die "$write_grants_file exists from an earlier cut-over: run rollback.sh or remove $state_dir first"

# --- 0: preconditions (nothing changed yet)
read -r enabled total ready < <(dst -F ' ' -c "SELECT s.subenabled, count(sr.*), count(sr.*) FILTER (WHERE sr.srsubstate = 'r')
  FROM pg_subscription s LEFT JOIN pg_subscription_rel sr ON sr.srsubid = s.oid WHERE s.subname = '$MIGRATION_NAME' GROUP BY s.subenabled")
[[ "${enabled:-}" == "t" && "${total:-0}" -gt 0 && "$ready" == "$total" ]] \
  || die "subscription $MIGRATION_NAME is not enabled with every table streaming (enabled=${enabled:-none}, ${ready:-0}/${total:-0} ready): finish step 5 first"
[[ -n "$(dst -c "SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE'")" ]] || die "role $APP_ROLE does not exist on the target: run 02_roles.sh"
# Without a running apply worker the drain would wait, with writes already paused, for the
# launcher to start one (up to wal_retrieve_retry_interval, 5 s by default).
[[ -n "$(dst -c "SELECT pid FROM pg_stat_subscription WHERE subname = '$MIGRATION_NAME' AND relid IS NULL AND pid IS NOT NULL")" ]] \
  || die "subscription $MIGRATION_NAME has no running apply worker (just enabled?): run 06_replication_lag.sh --max-delay 1 first"

# The app's privileges on the source: mirrored on the target in step 6, restored on abort.
src >"$grants_file" <<SQL
SELECT format('GRANT USAGE ON SCHEMA %I TO %I;', n.nspname, :'app') FROM pg_namespace n
 WHERE n.nspname = ANY ($SCHEMAS_SQL) AND has_schema_privilege(:'app', n.oid, 'USAGE')
UNION ALL
SELECT format('GRANT %s ON %s %I.%I TO %I;', a.privilege_type, CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              n.nspname, c.relname, :'app')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
 WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = :'app')
   AND c.relkind IN ('r', 'p', 'S', 'v', 'm') AND n.nspname = ANY ($SCHEMAS_SQL);
SQL
grep -E '^GRANT (INSERT|UPDATE|DELETE|TRUNCATE) ON TABLE ' "$grants_file" >"$write_grants_file.tmp" || true
[[ -s "$write_grants_file.tmp" ]] || { rm -f "$write_grants_file.tmp"; die "$APP_ROLE holds no write privilege on the source: wrong APP_ROLE, or the source is already fenced (see rollback.sh)"; }
mv -f "$write_grants_file.tmp" "$write_grants_file"

fenced=0; switched=0
abort() {
  local status=$?
  (( fenced == 1 && switched == 0 )) || exit "$status"
  log "cut-over FAILED (exit $status): restoring writes on the source"
  dst -c "SELECT 1" >/dev/null 2>&1 && dst <<SQL || true
SELECT format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', s, :'app') FROM unnest($SCHEMAS_SQL) AS s \gexec
ALTER SUBSCRIPTION :"name" ENABLE;
SQL
  if src -f "$write_grants_file"; then
    rm -f "$write_grants_file"
    log "cut-over aborted: the app's write privileges are back on the source; the app never left it"
  else
    log "RESTORE FAILED: apply $write_grants_file on the source by hand"
  fi
  exit "$status"
}
trap abort EXIT

# --- 1: fence
t_fence="$(now)"
fenced=1
fence_ts="$(src <<SQL
SELECT format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %I FROM %I', s, :'app') FROM unnest($SCHEMAS_SQL) AS s \gexec
SELECT clock_timestamp();
SQL
)"
still="$(src -c "SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY ($SCHEMAS_SQL)
    AND (has_table_privilege('$APP_ROLE', c.oid, 'INSERT') OR has_table_privilege('$APP_ROLE', c.oid, 'UPDATE')
         OR has_table_privilege('$APP_ROLE', c.oid, 'DELETE') OR has_table_privilege('$APP_ROLE', c.oid, 'TRUNCATE'))")"
[[ -z "$still" ]] || die "$APP_ROLE can still write after the revoke (via PUBLIC, a member role, ownership or superuser): $still"
# A transaction that began before the revoke may already hold its inserts and still commit.
while :; do
  open_xacts="$(src -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE usename = '$APP_ROLE' AND xact_start < '$fence_ts'::timestamptz")"
  (( open_xacts == 0 )) && break
  sleep 0.01
done
log "1/7 fenced: $APP_ROLE cannot write on the source"

# --- 2: drain
token="cutover-$(date +%s%N)"
src -c "INSERT INTO $FENCE_SCHEMA.fence (token) VALUES ('$token')"
until [[ -n "$(dst -c "SELECT 1 FROM $FENCE_SCHEMA.fence WHERE token = '$token'")" ]]; do
  awk -v e="$(elapsed "$t_fence" "$(now)")" -v t="$fence_timeout" 'BEGIN { exit !(e > t) }' \
    && die "target did not apply the fence row within ${fence_timeout}s"
  sleep 0.005
done
log "2/7 drained: target has applied every source commit (lag 0)"

# --- 3: detach
dst -c "ALTER SUBSCRIPTION $MIGRATION_NAME DISABLE"
log "3/7 subscription disabled"

# --- 4: sequences
src -c "SELECT format('SELECT setval(%L, %s, true);', format('%I.%I', schemaname, sequencename), last_value)
          FROM pg_sequences WHERE schemaname = ANY ($SCHEMAS_SQL) AND last_value IS NOT NULL" | dst -f - >/dev/null
log "4/7 sequences copied"

# --- 5: verify
bash "$MIGRATION_DIR/08_verify.sh" >&2
log "5/7 verified"

# --- 6: open the target
dst -f "$grants_file" >/dev/null
log "6/7 $APP_ROLE has its source privileges on the target"

# --- 7: switch
bash "$MIGRATION_DIR/switch_endpoint.sh"
switched=1
log "7/7 switched: writes were paused on the source for $(elapsed "$t_fence" "$(now)") s (fence to switch)"
