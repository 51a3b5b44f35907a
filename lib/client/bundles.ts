import { Bundle, bundleFile as file, sshTarget, StackName } from '../plan/bundle';
import { Topology } from '../topology';
import { renderClientCheck } from './check-service';

/** The client stack: the check script, pushed and not run. */
export function clientBundles(t: Topology): Bundle[] {
  return [{
    id: t.client.name,
    stack: StackName.CLIENT,
    target: sshTarget(t.client, t.client.address),
    description: 'client: a script that checks the service through the gateway',
    files: [file('check-service.sh', renderClientCheck(t))],
    dependsOn: [],
  }];
}
