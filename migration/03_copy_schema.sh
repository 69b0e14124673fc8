#!/usr/bin/env bash
# Step 3: copy the schema (no data) from source to target with pg_dump --schema-only.
# Idempotent: skips when every source table already exists on the target, refuses a
# partial schema. Owners and grants are not copied: the target's admin owns the objects
# and the cut-over grants the application role its privileges.
# Extensions are not dumped with -n: create them on the target first (CREATE EXTENSION).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

source_tables="$(src -c "$TABLES_SQL")"
target_tables="$(dst -c "$TABLES_SQL")"
missing="$(comm -23 <(sort <<<"$source_tables") <(sort <<<"$target_tables") | sed '/^$/d')"
if [[ -z "$missing" ]]; then
  log "schema already on target ($(wc -l <<<"$source_tables") table(s)); nothing to copy"
  exit 0
fi
[[ -z "$target_tables" ]] || die "target has part of the schema (missing: $(tr '\n' ' ' <<<"$missing")); drop it or finish it by hand, then re-run"

schema_args=()
for schema in $MIGRATION_SCHEMAS; do schema_args+=(--schema="$schema"); done
# pg_dump writes CREATE SCHEMA for each -n schema (public exists on the target) and a
# COMMENT on public that only its owner may set (rdsadmin on RDS): make both harmless.
pg_dump "$SOURCE_DATABASE_URL" --schema-only --no-owner --no-privileges --no-publications --no-subscriptions \
    "${schema_args[@]}" \
  | sed -E -e 's/^CREATE SCHEMA ([^ ;]+);$/CREATE SCHEMA IF NOT EXISTS \1;/' -e '/^COMMENT ON SCHEMA /d' \
  | dst --single-transaction -f -
log "schema copied: $(wc -l <<<"$source_tables") table(s) from schemas '$MIGRATION_SCHEMAS'"
