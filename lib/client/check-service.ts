import { Topology } from '../topology';
import { shellBody, shellScript } from '../formats/shell';

/** check-service.sh: fetches the service through the gateway, retrying a bounded number of times. */
export function renderClientCheck(t: Topology): string {
  return shellScript(`Checks from ${t.client.name} that ${t.serviceUrl} answers.`, shellBody('client/check-service.sh', { SERVICE_URL: t.serviceUrl }));
}
