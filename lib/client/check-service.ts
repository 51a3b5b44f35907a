import { Topology } from '../topology';
import { lines, scriptHeader } from '../formats/shell';

/** check-service.sh: fetches the service through the gateway, retrying a bounded number of times. */
export function renderClientCheck(t: Topology): string {
  return lines(
    scriptHeader(`Checks from ${t.client.name} that ${t.serviceUrl} answers.`),
    `url=${t.serviceUrl}`,
    'attempts=${1:-10}',
    'for ((i = 1; i <= attempts; i++)); do',
    '  if page=$(curl -fsS --max-time 2 "$url"); then',
    '    printf \'%s answered: %s\\n\' "$url" "$page"',
    '    exit 0',
    '  fi',
    '  sleep 1',
    'done',
    'echo "$url did not answer after $attempts attempts" >&2',
    'exit 1',
  );
}
