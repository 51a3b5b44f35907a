import { LoadBalancerHost, Topology } from '../topology';
import { prefixLengthOf } from '../topology/ipv4';
import { lines, scriptHeader } from './shell';

export const CHECK_SCRIPT_PATH = '/etc/keepalived/check_nginx.sh';
/** Unprivileged user keepalived runs the check as (enable_script_security). */
export const SCRIPT_USER = 'keepalived_script';

/** The load balancer that starts as MASTER: the one with the highest priority. */
export function vrrpMaster(t: Topology): LoadBalancerHost {
  return [...t.loadBalancer.hosts].sort((a, b) => b.priority - a.priority)[0];
}

/**
 * keepalived.conf for one load balancer. No `authentication` block: VRRPv2's
 * password is sent in clear text and was removed from the RFC; it protects nothing.
 * No `nopreempt`: once its check passes again, the MASTER takes the VIP back by itself.
 */
export function renderKeepalivedConf(t: Topology, host: LoadBalancerHost): string {
  const lb = t.loadBalancer;
  const check = lb.healthCheck;
  const peers = lb.hosts.filter((h) => h.name !== host.name);
  const state = vrrpMaster(t).name === host.name ? 'MASTER' : 'BACKUP';
  return lines(
    '# keepalived.conf for a k8s-ha-edge load balancer. Generated from the topology.',
    'global_defs {',
    `    router_id ${host.name}`,
    '    # Scripts run as an unprivileged user, and only if root owns them and their path.',
    '    enable_script_security',
    `    script_user ${SCRIPT_USER}`,
    '}',
    '',
    'vrrp_script check_nginx {',
    `    script "${CHECK_SCRIPT_PATH}"`,
    `    interval ${check.intervalSeconds}`,
    `    timeout ${check.timeoutSeconds}`,
    `    fall ${check.fall}`,
    `    rise ${check.rise}`,
    check.weight === 0
      ? '    # weight 0: a failing check puts this instance in FAULT, so the VIP moves at once.'
      : `    # A failing check lowers the priority by ${-check.weight}.`,
    `    weight ${check.weight}`,
    '}',
    '',
    `vrrp_instance ${t.workload.name.toUpperCase().replace(/-/g, '_')}_VIP {`,
    `    state ${state}`,
    `    interface ${host.interface}`,
    `    virtual_router_id ${lb.vrrp.routerId}`,
    `    priority ${host.priority}`,
    `    advert_int ${lb.vrrp.advertIntervalSeconds}`,
    lb.vrrp.unicast && lines(
      '    # Unicast adverts, for networks that drop VRRP multicast.',
      `    unicast_src_ip ${host.address}`,
      '    unicast_peer {',
      ...peers.map((p) => `        ${p.address}`),
      '    }',
    ).trimEnd(),
    '    virtual_ipaddress {',
    `        ${lb.vip}/${prefixLengthOf(t.networks.internal)} dev ${host.interface}`,
    '    }',
    '    track_script {',
    '        check_nginx',
    '    }',
    '}',
  );
}

/**
 * check_nginx.sh: passes when the LB port accepts a TCP connection on this host, which
 * is what clients need (a running nginx process that does not listen would pass a `ps` check).
 * It never stops keepalived: keepalived reacts to the exit code, and the VIP comes back
 * by itself once nginx does.
 */
export function renderCheckNginx(t: Topology): string {
  const port = t.loadBalancer.listenPort;
  return lines(
    scriptHeader(`keepalived health check: does nginx accept connections on port ${port}?`),
    `exec timeout ${t.loadBalancer.healthCheck.timeoutSeconds} bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null`,
  );
}
