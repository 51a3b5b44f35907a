import { lines, scriptHeader } from '../formats/shell';
import { LoadBalancerHost, Topology } from '../topology';
import { IN_FLIGHT_RULES_FILE, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT } from './in-flight';
import { CHECK_SCRIPT_PATH, DRAIN_FILE, LB_SYSCTL_FILE, NGINX_STATE_FILE, NGINX_STATE_UNIT, NGINX_STOPPING_SCRIPT, SCRIPT_USER } from './keepalived';

/**
 * teardown-lb.sh, run at destroy: stops keepalived first (a clean stop sends a priority-0 advert,
 * so a remaining load balancer takes the VIP at once) and nginx, and removes what setup-lb.sh
 * installed. The packages stay (other software may need them).
 */
export function renderTeardownLb(t: Topology, host: LoadBalancerHost): string {
  const vip = `${t.loadBalancer.vip}/${t.loadBalancer.vipPrefixLength}`;
  return lines(
    scriptHeader(`Undoes setup-lb.sh on ${host.name}: keepalived and nginx stopped and disabled, their configuration removed.`),
    'systemctl disable --now --quiet keepalived 2>/dev/null || true',
    'systemctl disable --now --quiet nginx 2>/dev/null || true',
    `systemctl disable --now --quiet ${NGINX_STATE_UNIT} 2>/dev/null || true`,
    '# In-flight forwarding: the unit\'s stop unhooks its rules; the script again in case the unit was gone.',
    `systemctl disable --now --quiet ${IN_FLIGHT_UNIT} 2>/dev/null || true`,
    `if [ -x ${IN_FLIGHT_SCRIPT} ]; then ${IN_FLIGHT_SCRIPT} disarm; fi`,
    `rm -f /etc/systemd/system/${NGINX_STATE_UNIT} /etc/systemd/system/${IN_FLIGHT_UNIT} ${IN_FLIGHT_SCRIPT} ${IN_FLIGHT_RULES_FILE} && systemctl daemon-reload`,
    `rm -f /etc/keepalived/keepalived.conf ${CHECK_SCRIPT_PATH} ${NGINX_STOPPING_SCRIPT} ${NGINX_STATE_FILE} ${DRAIN_FILE}`,
    '# Only our nginx.conf is removed; a file someone else wrote since is left alone.',
    "if grep -qs '^# nginx.conf for a k8s-ha-edge load balancer' /etc/nginx/nginx.conf; then rm -f /etc/nginx/nginx.conf; fi",
    `if ip -o -4 addr show dev ${host.interface} | grep -q ' ${vip} '; then ip addr del ${vip} dev ${host.interface}; fi`,
    `if ip -o -4 addr show dev lo | grep -q ' ${t.loadBalancer.vip}/32 '; then ip addr del ${t.loadBalancer.vip}/32 dev lo; fi`,
    `if [ -f ${LB_SYSCTL_FILE} ]; then`,
    `  rm -f ${LB_SYSCTL_FILE}`,
    '  sysctl -q -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0',
    'fi',
    `if id -u ${SCRIPT_USER} >/dev/null 2>&1; then userdel ${SCRIPT_USER}; fi`,
  );
}
