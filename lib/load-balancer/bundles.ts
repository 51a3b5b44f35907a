import { Bundle, bundleFile as file, sshTarget, StackName } from '../plan/bundle';
import { osProfile } from '../os-profiles';
import { Topology } from '../topology';
import { NGINX_STATE_UNIT, renderCheckNginx, renderKeepalivedConf, renderLbSysctl, renderNginxStateUnit, renderNginxStopping } from './keepalived';
import { renderNginxConf } from './nginx';
import { renderSetupLb } from './setup-lb';
import { renderTeardownLb } from './teardown-lb';
import { IN_FLIGHT_REARM_UNIT, IN_FLIGHT_UNIT, renderInFlightRearmUnit, renderInFlightRules, renderInFlightScript, renderInFlightUnit } from './in-flight';

/** The lb stack: one bundle per load balancer (nginx stream proxy, keepalived, its check, setup). */
export function loadBalancerBundles(t: Topology): Bundle[] {
  return t.loadBalancer.hosts.map((lb) => ({
    id: lb.name,
    stack: StackName.LB,
    target: sshTarget(lb, lb.address),
    description: 'load balancer: nginx stream proxy and keepalived',
    files: [
      file('nginx.conf', renderNginxConf(t, osProfile(lb).nginx)),
      file('keepalived.conf', renderKeepalivedConf(t, lb)),
      // Installed into /etc/keepalived and run there by keepalived, as its unprivileged script user.
      file('check_nginx.sh', renderCheckNginx(t), { runsFromStaging: false }),
      // Installed into /etc/systemd/system and /etc/keepalived; run by systemd when nginx stops.
      file(NGINX_STATE_UNIT, renderNginxStateUnit(t), { runsFromStaging: false }),
      file('lb-sysctl.conf', renderLbSysctl()),
      file('nginx-stopping.sh', renderNginxStopping(t, lb), { runsFromStaging: false }),
      ...(t.loadBalancer.inFlight
        ? [
          file('in-flight.rules', renderInFlightRules(t, lb)),
          // Installed into /etc/keepalived and /etc/systemd/system; run by systemd and by keepalived's notify.
          file('in-flight.sh', renderInFlightScript(t, lb), { runsFromStaging: false }),
          file(IN_FLIGHT_UNIT, renderInFlightUnit(), { runsFromStaging: false }),
          file(IN_FLIGHT_REARM_UNIT, renderInFlightRearmUnit(), { runsFromStaging: false }),
        ]
        : []),
      file('setup-lb.sh', renderSetupLb(t, lb)),
      file('teardown-lb.sh', renderTeardownLb(t, lb)),
    ],
    run: 'setup-lb.sh',
    teardown: 'teardown-lb.sh',
    dependsOn: [],
  }));
}
