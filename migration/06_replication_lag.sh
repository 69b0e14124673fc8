#!/usr/bin/env bash
# Step 6: how far behind is the target? Prints the slot's byte lag on the source and the
# measured apply delay (a heartbeat row written on the source, timed until the target has it).
#   --watch SECONDS     repeat every SECONDS until interrupted
#   --max-delay SECONDS exit 1 if the apply delay exceeds SECONDS (gate for the cut-over)
# Writes only heartbeat rows to $FENCE_SCHEMA.fence (and deletes them again).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
watch_s=""; max_delay=""
while (( $# )); do
  case "$1" in
    --watch) watch_s="$2"; shift 2 ;;
    --max-delay) max_delay="$2"; shift 2 ;;
    *) die "unknown argument $1 (use --watch SECONDS, --max-delay SECONDS)" ;;
  esac
done
timeout_s="${LAG_TIMEOUT_SECONDS:-60}"

measure() {
  local slot token start delay
  slot="$(src -F ' ' -c "SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
                           FROM pg_replication_slots WHERE slot_name = '$MIGRATION_NAME'")"
  [[ -n "$slot" ]] || die "source has no replication slot $MIGRATION_NAME: create the subscription first (step 5)"
  token="heartbeat-$(date +%s%N)"
  start="$(now)"
  src -c "INSERT INTO $FENCE_SCHEMA.fence (token) VALUES ('$token')"
  until [[ -n "$(dst -c "SELECT 1 FROM $FENCE_SCHEMA.fence WHERE token = '$token'")" ]]; do
    awk -v e="$(elapsed "$start" "$(now)")" -v t="$timeout_s" 'BEGIN { exit !(e > t) }' \
      && die "heartbeat $token not applied on the target after ${timeout_s}s: replication is stalled (check pg_stat_subscription on the target)"
    sleep 0.02
  done
  delay="$(elapsed "$start" "$(now)")"
  src -c "DELETE FROM $FENCE_SCHEMA.fence WHERE token = '$token'"
  read -r active lag_bytes <<<"$slot"
  printf 'slot %s active=%s unconfirmed_wal_bytes=%s apply_delay_seconds=%s\n' "$MIGRATION_NAME" "$active" "$lag_bytes" "$delay"
  if [[ -n "$max_delay" ]] && awk -v d="$delay" -v m="$max_delay" 'BEGIN { exit !(d > m) }'; then
    die "apply delay ${delay}s exceeds --max-delay ${max_delay}s"
  fi
}

if [[ -z "$watch_s" ]]; then
  measure
else
  while :; do measure; sleep "$watch_s"; done
fi
