import { Topology } from '../topology';
import { lines, scriptHeader } from './shell';

/** The URL a client uses: the gateway's outside address on the LB port, as in the seed. */
export function serviceUrl(t: Topology): string {
  return `http://${t.gateway.outside.address}:${t.loadBalancer.listenPort}/`;
}

/** check-service.sh: fetches the service through the gateway, retrying a bounded number of times. */
export function renderClientCheck(t: Topology): string {
  return lines(
    scriptHeader(`Checks from ${t.client.name} that ${serviceUrl(t)} answers.`),
    `url=${serviceUrl(t)}`,
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
