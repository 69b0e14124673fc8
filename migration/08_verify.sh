#!/usr/bin/env bash
# Verify: row counts and content checksums of every migrated table, source vs target, and
# that no target sequence is behind its source. Read-only. Exit 1 on any difference.
# The checksum is an order-independent sum of per-row md5 (streams: no sort, no big
# string), so two tables match only with the same rows, duplicates included. One query
# per side, both sides at once: this runs inside the cut-over's write pause.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tables="$(src -c "$TABLES_SQL")"
[[ -n "$tables" ]] || die "source has no tables in schemas '$MIGRATION_SCHEMAS'"
query=""
while read -r table; do
  query+="${query:+ UNION ALL }SELECT 'table', '$table', count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0) FROM $table AS t"
done <<<"$tables"
# Sequences are not replicated: the cut-over copies them; the target must never be behind.
sequences="SELECT 'sequence', format('%I.%I', schemaname, sequencename), coalesce(last_value, 0), 0 FROM pg_sequences WHERE schemaname = ANY ($SCHEMAS_SQL)"
query="$query UNION ALL $sequences ORDER BY 1, 2"

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
src -F '|' -c "$query" >"$work/source" 2>"$work/source.err" & source_pid=$!
dst -F '|' -c "$query" >"$work/target" 2>"$work/target.err" & target_pid=$!
wait "$source_pid" || die "source checksum query failed: $(tail -n 1 "$work/source.err")"
wait "$target_pid" || die "target checksum query failed (missing table?): $(tail -n 1 "$work/target.err")"

failed=0; total_rows=0
while IFS='|' read -r kind name count sum; do
  other="$(awk -F '|' -v n="$name" '$2 == n { print $3 "|" $4 }' "$work/target")"
  if [[ "$kind" == "table" ]]; then
    if [[ "$other" == "$count|$sum" ]]; then
      printf 'OK        %-40s rows=%s\n' "$name" "$count"; total_rows=$(( total_rows + count ))
    else
      printf 'MISMATCH  %-40s source=[%s|%s] target=[%s]\n' "$name" "$count" "$sum" "${other:-missing}"; failed=1
    fi
  elif [[ -n "$other" ]] && (( ${other%%|*} >= count )); then
    printf 'OK        %-40s source=%s target=%s\n' "$name" "$count" "${other%%|*}"
  else
    printf 'BEHIND    %-40s source=%s target=%s\n' "$name" "$count" "${other%%|*}"; failed=1
  fi
done <"$work/source"

(( failed == 0 )) || die "source and target differ (see MISMATCH/BEHIND lines)"
log "verified: $(wc -l <<<"$tables") table(s), $total_rows row(s) identical; sequences not behind"
