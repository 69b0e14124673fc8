#!/usr/bin/env bash
# Step 2: the replication user on the source and the application role on the target.
# Idempotent: creates what is missing and (re)sets the passwords.
#   REPLICATION_PASSWORD  password of $REPLICATION_USER on the source (required)
#   APP_ROLE_PASSWORD     password of $APP_ROLE on the target (required; the app's new secret)
# On RDS the replication right is the rds_replication role (ALTER ROLE ... REPLICATION is
# refused there); elsewhere it is the REPLICATION attribute. The script picks whichever exists.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need REPLICATION_PASSWORD "password for the replication user $REPLICATION_USER on the source"
need APP_ROLE_PASSWORD "password for the application role $APP_ROLE on the target"

src <<SQL
\getenv repl_password REPLICATION_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'repl') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'repl') \gexec
ALTER ROLE :"repl" WITH LOGIN PASSWORD :'repl_password';
SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_replication')
            THEN format('GRANT rds_replication TO %I', :'repl')
            ELSE format('ALTER ROLE %I REPLICATION', :'repl') END \gexec
-- The initial table copy reads every migrated table as this user.
SELECT format('GRANT USAGE ON SCHEMA %I TO %I', s, :'repl') FROM unnest($SCHEMAS_SQL) AS s \gexec
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', s, :'repl') FROM unnest($SCHEMAS_SQL) AS s \gexec
SQL
log "source: replication user $REPLICATION_USER ready"

dst <<SQL
\getenv app_password APP_ROLE_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"app" WITH LOGIN PASSWORD :'app_password';
SQL
log "target: application role $APP_ROLE ready (no table privileges until the cut-over grants them)"
