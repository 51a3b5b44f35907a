import { shellBody, shellScript } from '../formats/shell';
import { LoadBalancerHost, Topology } from '../topology';
import { IN_FLIGHT_REARM_UNIT, IN_FLIGHT_RULES_FILE, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT } from './in-flight';
import { CHECK_SCRIPT_PATH, DRAIN_FILE, LB_SYSCTL_FILE, NGINX_STATE_FILE, NGINX_STATE_UNIT, NGINX_STOPPING_SCRIPT, SCRIPT_USER } from './keepalived';
import { NGINX_CONF_MARKER } from './nginx';

/**
 * teardown-lb.sh, run at destroy: stops keepalived first (a clean stop sends a priority-0 advert,
 * so a remaining load balancer takes the VIP at once) and nginx, and removes what setup-lb.sh
 * installed. The packages stay (other software may need them). The logic is lib/load-balancer/teardown-lb.sh.
 */
export function renderTeardownLb(t: Topology, host: LoadBalancerHost): string {
  return shellScript(
    `Undoes setup-lb.sh on ${host.name}: keepalived and nginx stopped and disabled, their configuration removed.`,
    shellBody('load-balancer/teardown-lb.sh', {
      NGINX_STATE_UNIT,
      CHECK_SCRIPT_PATH,
      NGINX_STOPPING_SCRIPT,
      NGINX_STATE_FILE,
      DRAIN_FILE,
      NGINX_CONF_MARKER,
      LB_INTERFACE: host.interface,
      VIP: t.loadBalancer.vip,
      VIP_PREFIX_LENGTH: t.loadBalancer.vipPrefixLength,
      LB_SYSCTL_FILE,
      SCRIPT_USER,
      IN_FLIGHT_UNIT,
      IN_FLIGHT_REARM_UNIT,
      IN_FLIGHT_SCRIPT,
      IN_FLIGHT_RULES_FILE,
    }),
  );
}
