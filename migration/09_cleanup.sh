#!/usr/bin/env bash
# Step 9: remove everything the migration created in the databases. Idempotent.
# Target: the subscription (its slot on the source is dropped explicitly, so this works
# even when the source is already unreachable) and the fence schema. Source: the slot,
# the publication, the fence schema and the replication user. The app's write privileges
# on the source stay revoked: dev is read-only until it is decommissioned.
# Then remove the `migration` context and deploy: the peering, routes and rules go away.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n "$(dst -c "SELECT 1 FROM pg_subscription WHERE subname = '$MIGRATION_NAME'")" ]]; then
  dst -c "ALTER SUBSCRIPTION $MIGRATION_NAME DISABLE"
  dst -c "ALTER SUBSCRIPTION $MIGRATION_NAME SET (slot_name = NONE)"
  dst -c "DROP SUBSCRIPTION $MIGRATION_NAME"
fi
dst -c "DROP SCHEMA IF EXISTS $FENCE_SCHEMA CASCADE"
log "target: subscription and $FENCE_SCHEMA removed"

# The walsender may take a moment to exit after the subscription is gone.
for _ in $(seq 1 100); do
  [[ "$(src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$MIGRATION_NAME' AND active")" == "0" ]] && break
  sleep 0.1
done
src <<SQL
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = :'name';
DROP PUBLICATION IF EXISTS :"name";
DROP SCHEMA IF EXISTS :"fence" CASCADE;
SELECT format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', s, :'repl') FROM unnest($SCHEMAS_SQL) AS s
 WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = :'repl') \gexec
SELECT format('REVOKE USAGE ON SCHEMA %I FROM %I', s, :'repl') FROM unnest($SCHEMAS_SQL) AS s
 WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = :'repl') \gexec
DROP ROLE IF EXISTS :"repl";
SQL
log "source: slot, publication, $FENCE_SCHEMA and $REPLICATION_USER removed"
