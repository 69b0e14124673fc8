#!/usr/bin/env bash
# Point the application at a database. Exactly one mode:
#   APP_SECRET_ID + NEW_DB_HOST + NEW_DB_PORT  AWS: rewrite host/port in the app's Secrets
#       Manager secret (JSON) with the aws CLI; apps re-read the secret on connection errors.
#   APP_ENDPOINT_FILE + NEW_APP_ENDPOINT       a config file the app reads (the rehearsal's mode);
#       replaced atomically (write then rename) so a reader never sees half a file.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n "${APP_SECRET_ID:-}" ]]; then
  need NEW_DB_HOST "the new database host for the app's secret"
  need NEW_DB_PORT "the new database port for the app's secret"
  current="$(aws secretsmanager get-secret-value --secret-id "$APP_SECRET_ID" --query SecretString --output text)"
  updated="$(NEW_DB_HOST="$NEW_DB_HOST" NEW_DB_PORT="$NEW_DB_PORT" python3 -c '
import json, os, sys
secret = json.loads(sys.stdin.read())
secret["host"], secret["port"] = os.environ["NEW_DB_HOST"], int(os.environ["NEW_DB_PORT"])
print(json.dumps(secret))' <<<"$current")"
  aws secretsmanager put-secret-value --secret-id "$APP_SECRET_ID" --secret-string "$updated" >/dev/null
  log "secret $APP_SECRET_ID now points at $NEW_DB_HOST:$NEW_DB_PORT"
elif [[ -n "${APP_ENDPOINT_FILE:-}" ]]; then
  need NEW_APP_ENDPOINT "the new content of $APP_ENDPOINT_FILE"
  tmp="$APP_ENDPOINT_FILE.tmp.$$"
  printf '%s\n' "$NEW_APP_ENDPOINT" >"$tmp"
  mv -f "$tmp" "$APP_ENDPOINT_FILE"
  log "endpoint file $APP_ENDPOINT_FILE switched"
else
  die "set APP_SECRET_ID (+ NEW_DB_HOST, NEW_DB_PORT) or APP_ENDPOINT_FILE (+ NEW_APP_ENDPOINT)"
fi
