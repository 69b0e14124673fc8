#!/usr/bin/env bash
# Step 5 (target): the subscription, then wait until the initial copy of every table is done.
#   SUBSCRIPTION_CONNINFO  how the *staging server* reaches the dev DB as $REPLICATION_USER, e.g.
#     "host=payments-dev.xxxx.us-east-1.rds.amazonaws.com port=5432 dbname=payments user=migration_repl password=... sslmode=require"
#   SYNC_TIMEOUT_SECONDS   how long to wait for the initial copy (default 3600)
# Idempotent: an existing subscription is kept; the wait runs again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need SUBSCRIPTION_CONNINFO "libpq conninfo the staging server uses to reach the dev DB as $REPLICATION_USER"
timeout_s="${SYNC_TIMEOUT_SECONDS:-3600}"

dst <<SQL
CREATE SCHEMA IF NOT EXISTS :"fence";
CREATE TABLE IF NOT EXISTS :"fence".fence (token text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp());
\getenv conninfo SUBSCRIPTION_CONNINFO
-- CREATE SUBSCRIPTION may not run in a transaction block: \gexec runs it on its own.
SELECT format('CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %I WITH (copy_data = true, slot_name = %L)',
              :'name', :'conninfo', :'name', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_subscription WHERE subname = :'name') \gexec
SQL
log "target: subscription $MIGRATION_NAME exists; waiting for the initial copy"

start="$(now)"
while :; do
  read -r total ready < <(dst -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE sr.srsubstate = 'r')
    FROM pg_subscription_rel sr JOIN pg_subscription s ON s.oid = sr.srsubid WHERE s.subname = '$MIGRATION_NAME'")
  if (( total > 0 && ready == total )); then
    log "initial copy done: $ready/$total table(s) streaming ($(elapsed "$start" "$(now)") s)"
    exit 0
  fi
  awk -v e="$(elapsed "$start" "$(now)")" -v t="$timeout_s" 'BEGIN { exit !(e > t) }' \
    && die "initial copy not done after ${timeout_s}s ($ready/$total table(s) ready); check the target's log and pg_stat_subscription"
  sleep 0.2
done
