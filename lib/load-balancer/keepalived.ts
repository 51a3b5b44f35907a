import { LoadBalancerHost, Topology } from '../topology';
import { BLANK, block, comment, ConfFile, directive, printKeepalivedConf, quoted } from '../formats/directive-tree';
import { lines, scriptHeader } from '../formats/shell';

/** The vrrp_script that runs check_nginx.sh, tracked by the VRRP instance. */
const CHECK_SCRIPT_NAME = 'check_nginx';
export const CHECK_SCRIPT_PATH = '/etc/keepalived/check_nginx.sh';
/** Unprivileged user keepalived runs the check as (enable_script_security). */
export const SCRIPT_USER = 'keepalived_script';

/** The name of the VRRP instance: the workload's name in SNAKE_UPPER, then _VIP. */
function vrrpInstanceName(t: Topology): string {
  return `${t.workload.name.toUpperCase().replace(/-/g, '_')}_VIP`;
}

/**
 * keepalived.conf for one load balancer. No `authentication` block: VRRPv2's
 * password is sent in clear text and was removed from the RFC; it protects nothing.
 * No `nopreempt`: once its check passes again, the preferred load balancer (the highest priority)
 * takes the VIP back by itself, after `preempt_delay` so that a flapping nginx does not move the
 * VIP back and forth. keepalived honours preempt_delay only for an instance whose initial state is
 * BACKUP, so with a delay every load balancer starts as BACKUP and the election by priority picks
 * the preferred one; without one, the preferred load balancer starts as MASTER.
 */
export function keepalivedConf(t: Topology, host: LoadBalancerHost): ConfFile {
  const lb = t.loadBalancer;
  const check = lb.healthCheck;
  const peers = lb.hosts.filter((h) => h.name !== host.name);
  const delay = lb.vrrp.preemptDelaySeconds;
  const state = delay === 0 && lb.master.name === host.name ? 'MASTER' : 'BACKUP';
  const unicast = lb.vrrp.unicast && peers.length > 0;
  return {
    nodes: [
      comment('keepalived.conf for a k8s-ha-edge load balancer. Generated from the topology.'),
      block('global_defs', [], [
        directive('router_id', [host.name]),
        directive('enable_script_security', [], { comment: 'Scripts run as an unprivileged user, and only if root owns them and their path.' }),
        directive('script_user', [SCRIPT_USER]),
      ]),
      BLANK,
      block('vrrp_script', [CHECK_SCRIPT_NAME], [
        directive('script', [quoted(CHECK_SCRIPT_PATH)]),
        directive('interval', [check.intervalSeconds]),
        directive('timeout', [check.timeoutSeconds]),
        directive('fall', [check.fall]),
        directive('rise', [check.rise]),
        directive('weight', [check.weight], {
          comment: check.weight === 0
            ? 'weight 0: a failing check puts this instance in FAULT, so the VIP moves at once.'
            : `A failing check lowers the priority by ${-check.weight}.`,
        }),
      ]),
      BLANK,
      block('vrrp_instance', [vrrpInstanceName(t)], [
        directive('state', [state]),
        directive('interface', [host.interface]),
        directive('virtual_router_id', [lb.vrrp.routerId]),
        directive('priority', [host.priority]),
        directive('advert_int', [lb.vrrp.advertIntervalSeconds]),
        delay > 0 && directive('preempt_delay', [delay], {
          comment: `Back to the highest priority only after ${delay} s (keepalived applies this to a BACKUP start state only).`,
        }),
        // With no peer there is nobody to advertise to: an empty unicast_peer block fails keepalived's config test.
        unicast && directive('unicast_src_ip', [host.address], { comment: 'Unicast adverts, for networks that drop VRRP multicast.' }),
        unicast && block('unicast_peer', [], peers.map((p) => directive(p.address))),
        block('virtual_ipaddress', [], [directive(`${lb.vip}/${lb.vipPrefixLength}`, ['dev', host.interface])]),
        block('track_script', [], [directive(CHECK_SCRIPT_NAME)]),
      ]),
    ],
  };
}

export function renderKeepalivedConf(t: Topology, host: LoadBalancerHost): string {
  return printKeepalivedConf(keepalivedConf(t, host));
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
