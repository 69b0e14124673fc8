#!/usr/bin/env bash
# Step 4 (source): the fence table and the publication of every migrated table.
# Idempotent: creates what is missing and adds tables created since the last run.
# FOR TABLE, not FOR ALL TABLES: the latter needs a true superuser, which RDS does not give.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src <<SQL
-- Fence/heartbeat rows are applied in commit order on the target: seeing one there
-- proves every earlier commit has been applied (exact, and no feedback-interval wait).
CREATE SCHEMA IF NOT EXISTS :"fence";
CREATE TABLE IF NOT EXISTS :"fence".fence (token text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp());
GRANT USAGE ON SCHEMA :"fence" TO :"repl";
GRANT SELECT ON :"fence".fence TO :"repl";
SELECT format('CREATE PUBLICATION %I', :'name') WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = :'name') \gexec
SELECT format('ALTER PUBLICATION %I ADD TABLE %I.%I', :'name', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND (n.nspname = ANY ($SCHEMAS_SQL) OR (n.nspname = :'fence' AND c.relname = 'fence'))
   AND NOT EXISTS (SELECT FROM pg_publication_tables p WHERE p.pubname = :'name' AND p.schemaname = n.nspname AND p.tablename = c.relname)
\gexec
SQL
count="$(src -c "SELECT count(*) FROM pg_publication_tables WHERE pubname = '$MIGRATION_NAME'")"
log "source: publication $MIGRATION_NAME covers $count table(s) (including $FENCE_SCHEMA.fence)"
