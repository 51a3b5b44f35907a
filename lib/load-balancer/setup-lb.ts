import { LoadBalancerHost, Topology } from '../topology';
import { CHECK_SCRIPT_PATH, LB_SYSCTL_FILE, NGINX_STATE_UNIT, NGINX_STOPPING_SCRIPT, SCRIPT_USER } from './keepalived';
import { osProfile } from '../os-profiles';
import { ensurePackages } from '../os-profiles/packages';
import { INSTALL_IF_CHANGED, shellBody, shellScript } from '../formats/shell';
import { renderFirewalldOpenings, renderSelinuxPolicy } from './host-policy';
import { inFlightSetup } from './in-flight';

/**
 * setup-lb.sh: installs nginx (with the stream module) and keepalived, gives them what SELinux
 * and firewalld would deny (before either starts), and puts their configuration in place only
 * after the real tools accepted it; reloads only what changed. The logic is lib/load-balancer/setup-lb.sh.
 */
export function renderSetupLb(t: Topology, host: LoadBalancerHost): string {
  const profile = osProfile(host);
  return shellScript(
    `Sets up ${host.name}: nginx stream proxy on port ${t.loadBalancer.listenPort} and keepalived for ${t.loadBalancer.vip}.`,
    'cd "$(dirname "$0")"',
    INSTALL_IF_CHANGED,
    ensurePackages(profile.packageManager, [...profile.nginx.packages, 'keepalived', ...(t.loadBalancer.inFlight ? profile.iptablesPackages : [])]),
    '',
    renderSelinuxPolicy(t, profile),
    '',
    // A static body ends in its newline: the join after it is the blank line.
    renderFirewalldOpenings(t, host),
    t.loadBalancer.inFlight && inFlightSetup(),
    shellBody('load-balancer/setup-lb.sh', { SCRIPT_USER, CHECK_SCRIPT_PATH, LB_SYSCTL_FILE, NGINX_STOPPING_SCRIPT, NGINX_STATE_UNIT }),
  );
}
