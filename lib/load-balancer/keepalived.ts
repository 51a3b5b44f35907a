import { LoadBalancerHost, Topology } from '../topology';
import { BLANK, block, comment, ConfFile, directive, printKeepalivedConf, quoted } from '../formats/directive-tree';
import { lines, shellBody, shellScript } from '../formats/shell';
import { inFlightNotify } from './in-flight';

/** The vrrp_script that runs check_nginx.sh, tracked by the VRRP instance. */
const CHECK_SCRIPT_NAME = 'check_nginx';
export const CHECK_SCRIPT_PATH = '/etc/keepalived/check_nginx.sh';
/** Unprivileged user keepalived runs the check as (enable_script_security). */
export const SCRIPT_USER = 'keepalived_script';

/**
 * The drain file: `npm run drain` writes DRAINED_VALUE into it, `--undo` writes 0. keepalived watches
 * it (track_file, inotify: no polling) and adds its value to the priority, so a drained load balancer
 * drops to priority 1 and a peer takes the VIP while this one's nginx still serves. Persistent, so a
 * drained load balancer stays drained across a reboot during its maintenance.
 */
export const DRAIN_FILE = '/etc/keepalived/k8s-ha-edge.drain';
/**
 * nginx's own state, written by systemd (the nginx-state unit below): 0 once nginx runs, NGINX_DOWN_VALUE
 * when it stops or dies. Volatile (/run), and created as "down" by keepalived when missing, so a
 * load balancer that has just booted does not claim the VIP before its nginx runs.
 */
export const NGINX_STATE_FILE = '/run/k8s-ha-edge-nginx.state';
/** The value added to the priority by a drained or nginx-less load balancer: the lowest priority, 1, whatever it was. */
export const DRAINED_VALUE = -253;
const NGINX_DOWN_VALUE = DRAINED_VALUE;
/** The systemd unit that writes NGINX_STATE_FILE, bound to nginx.service, and the script it runs when nginx stops. */
export const NGINX_STATE_UNIT = 'k8s-ha-edge-nginx-state.service';
export const NGINX_STOPPING_SCRIPT = '/etc/keepalived/nginx-stopping.sh';
/**
 * ARP settings of a load balancer: after nginx died, the VIP is also put on lo (below), so a client's
 * SYN that still reaches this host in the instant after keepalived released the VIP is refused at once
 * (the client retries at once) instead of dropped (the client retries after its 1 s SYN timeout). With
 * the VIP on lo, the host must answer ARP only for the addresses of the NIC asked (arp_ignore 1) and
 * never use the VIP as an ARP source (arp_announce 2), or it would claim the VIP while it is BACKUP.
 */
export const LB_SYSCTL_FILE = '/etc/sysctl.d/90-k8s-ha-edge-lb.conf';
export function renderLbSysctl(): string {
  return lines(
    '# k8s-ha-edge load balancer: the VIP may sit on lo (in-flight forwarding; while nginx is down, see nginx-stopping.sh).',
    '# Answer ARP only for addresses of the NIC that was asked, and never announce the VIP from lo.',
    'net.ipv4.conf.all.arp_ignore = 1',
    'net.ipv4.conf.all.arp_announce = 2',
  );
}

/** How long nginx's stop waits for the VIP to leave this host: at most steps × stepSeconds, 3 s (the peer takes it in ~0.4 s at 100 ms adverts). */
const HANDOVER_WAIT = { steps: 60, stepSeconds: 0.05 };

const NGINX_STATE_TRACK = 'nginx_state';
const DRAIN_TRACK = 'drain';

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
  // Only the preferred load balancer waits before preempting: the others must take the VIP at once
  // from a drained one (its priority drops to 1 while it still serves), or a drain would wait too.
  const delay = lb.master.name === host.name ? lb.vrrp.preemptDelaySeconds : 0;
  const state = lb.vrrp.preemptDelaySeconds === 0 && lb.master.name === host.name ? 'MASTER' : 'BACKUP';
  const advertSeconds = String(lb.vrrp.advertIntervalMs / 1000);
  const unicast = lb.vrrp.unicast && peers.length > 0;
  return {
    nodes: [
      comment('keepalived.conf for a k8s-ha-edge load balancer. Generated from the topology.'),
      block('global_defs', [], [
        directive('router_id', [host.name]),
        directive('enable_script_security', [], { comment: 'Scripts run as an unprivileged user, and only if root owns them and their path.' }),
        directive('script_user', [SCRIPT_USER]),
        directive('vrrp_version', [lb.vrrp.version], {
          comment: lb.vrrp.version === 3 ? 'VRRPv3 (RFC 5798): sub-second advert intervals.' : 'VRRPv2 (RFC 3768): whole-second advert intervals.',
        }),
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
      block('track_file', [NGINX_STATE_TRACK], [
        directive('file', [quoted(NGINX_STATE_FILE)], { comment: `Written by ${NGINX_STATE_UNIT}: 0 while nginx runs, ${NGINX_DOWN_VALUE} before it stops or once it died.` }),
        directive('weight', [1]),
        directive('init_file', [NGINX_DOWN_VALUE], { comment: 'Missing (just booted): down until nginx has started.' }),
      ]),
      BLANK,
      block('track_file', [DRAIN_TRACK], [
        directive('file', [quoted(DRAIN_FILE)], { comment: `npm run drain writes ${DRAINED_VALUE} (priority 1: a peer takes the VIP), --undo writes 0.` }),
        directive('weight', [1]),
        directive('init_file', [0]),
      ]),
      BLANK,
      block('vrrp_instance', [vrrpInstanceName(t)], [
        directive('state', [state]),
        directive('interface', [host.interface]),
        directive('virtual_router_id', [lb.vrrp.routerId]),
        directive('priority', [host.priority]),
        directive('advert_int', [advertSeconds]),
        delay > 0 && directive('preempt_delay', [delay], {
          comment: `Back to the highest priority only after ${delay} s (keepalived applies this to a BACKUP start state only).`,
        }),
        // With no peer there is nobody to advertise to: an empty unicast_peer block fails keepalived's config test.
        unicast && directive('unicast_src_ip', [host.address], { comment: 'Unicast adverts, for networks that drop VRRP multicast.' }),
        unicast && block('unicast_peer', [], peers.map((p) => directive(p.address))),
        block('virtual_ipaddress', [], [directive(`${lb.vip}/${lb.vipPrefixLength}`, ['dev', host.interface])]),
        block('track_script', [], [directive(CHECK_SCRIPT_NAME)]),
        block('track_file', [], [directive(NGINX_STATE_TRACK), directive(DRAIN_TRACK)]),
        ...(t.loadBalancer.inFlight ? inFlightNotifyDirectives() : []),
      ]),
    ],
  };
}

/** The notify commands of in-flight forwarding, run as root (they change iptables rules). */
function inFlightNotifyDirectives() {
  const notify = inFlightNotify();
  return [
    directive('notify_master', [quoted(notify.master), 'root'], { comment: 'In-flight forwarding: stop passing segments to peers that serve nothing any more.' }),
    directive('notify_backup', [quoted(notify.backup), 'root'], { comment: 'Ready to pass on segments before the VIP can come back here.' }),
    directive('notify_fault', [quoted(notify.backup), 'root']),
  ];
}

export function renderKeepalivedConf(t: Topology, host: LoadBalancerHost): string {
  return printKeepalivedConf(keepalivedConf(t, host));
}

/**
 * check_nginx.sh: passes when the LB port accepts a TCP connection on this host, which
 * is what clients need (a running nginx process that does not listen would pass a `ps` check).
 * It never stops keepalived: keepalived reacts to the exit code, and the VIP comes back
 * by itself once nginx does. A complete script: keepalived runs it from /etc/keepalived. The logic
 * is lib/load-balancer/check-nginx.sh.
 */
export function renderCheckNginx(t: Topology): string {
  const port = t.loadBalancer.listenPort;
  return shellScript(
    `keepalived health check: does nginx accept connections on port ${port}?`,
    shellBody('load-balancer/check-nginx.sh', { LB_PORT: port, CHECK_TIMEOUT_SECONDS: t.loadBalancer.healthCheck.timeoutSeconds }),
  );
}

/**
 * The systemd unit that tells keepalived whether nginx runs, from systemd's own knowledge of nginx
 * (no polling): bound to nginx.service (BindsTo: stopped when nginx stops or dies; PartOf: restarted
 * with it) and ordered after it, so on a stop it runs before nginx stops. Its stop marks nginx down
 * (priority 1: a peer takes the VIP) and waits, bounded, until the VIP has left this host: nginx closes
 * its listener only once clients are sent to the peer. keepalived's own process tracking
 * (track_process) needs the kernel's process-event connector, which refuses listeners outside the
 * initial PID namespace (containers: "Failed to set/clear process event listen - errno 111").
 */
export function renderNginxStateUnit(t: Topology): string {
  const vip = t.loadBalancer.vip;
  return lines(
    '# k8s-ha-edge: tells keepalived whether nginx runs. Generated from the topology.',
    '[Unit]',
    'Description=k8s-ha-edge: nginx state for keepalived (moves the VIP away before nginx stops)',
    'BindsTo=nginx.service',
    'PartOf=nginx.service',
    'After=nginx.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // With in-flight forwarding the VIP stays on lo (a peer passes this host's connections back to it there).
    t.loadBalancer.inFlight
      ? `ExecStart=/bin/sh -c 'echo 0 > ${NGINX_STATE_FILE}'`
      : `ExecStart=/bin/sh -c 'ip -4 addr del ${vip}/32 dev lo 2>/dev/null; echo 0 > ${NGINX_STATE_FILE}'`,
    `ExecStop=${NGINX_STOPPING_SCRIPT}`,
    '',
    '[Install]',
    'WantedBy=nginx.service',
  );
}

/**
 * nginx-stopping.sh: marks nginx down for keepalived, then waits (bounded) until the VIP has left this host.
 * A complete script: systemd runs it from /etc/keepalived. The logic is lib/load-balancer/nginx-stopping.sh.
 */
export function renderNginxStopping(t: Topology, host: LoadBalancerHost): string {
  const vip = t.loadBalancer.vip;
  return shellScript(
    `Run by ${NGINX_STATE_UNIT} before nginx stops: a peer takes ${vip} first, then nginx closes its port.`,
    shellBody('load-balancer/nginx-stopping.sh', {
      NGINX_DOWN_VALUE,
      NGINX_STATE_FILE,
      VIP: vip,
      LB_INTERFACE: host.interface,
      HANDOVER_STEPS: HANDOVER_WAIT.steps,
      HANDOVER_STEP_SECONDS: HANDOVER_WAIT.stepSeconds,
    }),
  );
}
