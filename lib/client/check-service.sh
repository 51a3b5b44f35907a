# shellcheck shell=bash
# Fetches SERVICE_URL through the gateway, retrying a bounded number of times: $1, or 10.
: "${SERVICE_URL:?}"
attempts=${1:-10}
for ((i = 1; i <= attempts; i++)); do
  if page=$(curl -fsS --max-time 2 "$SERVICE_URL"); then
    printf '%s answered: %s\n' "$SERVICE_URL" "$page"
    exit 0
  fi
  sleep 1
done
echo "$SERVICE_URL did not answer after $attempts attempts" >&2
exit 1
