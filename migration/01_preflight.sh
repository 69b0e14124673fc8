#!/usr/bin/env bash
# Step 1: check both databases are ready for logical replication. Read-only; safe to re-run.
# Fails (exit 1) with the fix when the source's wal_level is not logical, when a table
# cannot replicate UPDATE/DELETE (no primary key or replica identity), or when either side
# lacks replication capacity.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wal_level="$(src -c "SHOW wal_level")"
[[ "$wal_level" == "logical" ]] || die "source wal_level is '$wal_level', not 'logical': set rds.logical_replication=1 in the dev DB parameter group and reboot the dev instance (static parameter; see docs/migration.md step 1)"

read -r free_slots wal_senders < <(src -F ' ' -c "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots), current_setting('max_wal_senders')::int")
(( free_slots >= 1 )) || die "source has no free replication slot (max_replication_slots is used up)"
(( wal_senders >= 1 )) || die "source max_wal_senders is 0"

tables="$(src -c "$TABLES_SQL")"
[[ -n "$tables" ]] || die "source has no tables in schemas '$MIGRATION_SCHEMAS'"
no_identity="$(src -c "SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND NOT c.relispartition AND n.nspname = ANY ($SCHEMAS_SQL)
   AND c.relreplident <> 'f'
   AND NOT (c.relreplident = 'i' AND EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident))
   AND NOT (c.relreplident = 'd' AND EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))")"
[[ -z "$no_identity" ]] || die "tables without a primary key or replica identity cannot replicate UPDATE/DELETE: $no_identity (add a primary key, or ALTER TABLE ... REPLICA IDENTITY FULL)"

src_version="$(src -c "SHOW server_version_num")"
dst_version="$(dst -c "SHOW server_version_num")"
(( dst_version / 10000 >= src_version / 10000 )) || die "target major version $((dst_version / 10000)) is older than source $((src_version / 10000))"
read -r workers origins < <(dst -F ' ' -c "SELECT current_setting('max_logical_replication_workers')::int, current_setting('max_replication_slots')::int")
(( workers >= 1 && origins >= 1 )) || die "target needs max_logical_replication_workers >= 1 and max_replication_slots >= 1 (replication origins)"

log "preflight ok: source wal_level=logical, $(wc -l <<<"$tables") table(s), $free_slots free slot(s); target PostgreSQL $((dst_version / 10000)), $workers apply worker(s)"
