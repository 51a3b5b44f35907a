import { Topology } from '../topology';
import { BLANK, block, comment, ConfFile, directive, printNginxConf } from '../formats/directive-tree';
import { NginxProfile } from '../os-profiles';

/** The first comment of every nginx.conf k8s-ha-edge writes: teardown-lb.sh removes only a file that starts with it. */
export const NGINX_CONF_MARKER = 'nginx.conf for a k8s-ha-edge load balancer';

/** The upstream of every worker's NodePort; its servers are the workers, in topology order. */
export function upstreamName(t: Topology): string {
  return `${t.workload.name}-nodeports`;
}

/** The upstream of the control plane's API servers; its servers are the control-plane nodes. */
export const API_UPSTREAM = 'kube-apiservers';

/**
 * The nginx.conf of a load balancer: an L4 `stream` proxy from the LB port to every
 * worker's NodePort and one from the API port (kubernetes.apiServerPort, on the VIP: the
 * control-plane endpoint) to every control-plane node's API server, and no `http` block
 * (the LB serves nothing on port 80). Both upstreams use the same passive health check.
 * Only the family's nginx user and module include come from the profile.
 */
export function nginxConf(t: Topology, nginx: NginxProfile): ConfFile {
  const lb = t.loadBalancer;
  const upstream = upstreamName(t);
  const apiServers = [t.controlPlane];
  const passive = [`max_fails=${lb.upstream.maxFails}`, `fail_timeout=${lb.upstream.failTimeoutSeconds}s`];
  return {
    nodes: [
      comment(`${NGINX_CONF_MARKER}. Generated from the topology.`),
      directive('user', [nginx.user]),
      directive('worker_processes', ['auto']),
      directive('pid', ['/run/nginx.pid']),
      directive('error_log', ['/var/log/nginx/error.log', 'warn']),
      directive('include', [nginx.moduleInclude], { comment: 'The stream module is built as a dynamic module on this family.' }),
      BLANK,
      block('events', [], [directive('worker_connections', [1024])]),
      BLANK,
      block('stream', [], [
        directive('log_format', [
          'proxy',
          '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received ',
          '$session_time "$upstream_addr" $upstream_connect_time',
        ]),
        directive('access_log', ['/var/log/nginx/k8s-access.log', 'proxy']),
        BLANK,
        block('upstream', [upstream], t.workers.map((w) => directive(
          'server',
          [`${w.address}:${t.workload.nodePort}`, ...passive],
          { trailingComment: w.name },
        ))),
        BLANK,
        block('server', [], [
          directive('listen', [lb.listenPort], {
            comment: [
              'Every address, not only the VIP: a BACKUP serves the moment the VIP arrives,',
              'and nginx needs no restart (nor ip_nonlocal_bind) when it moves.',
            ],
          }),
          directive('proxy_pass', [upstream]),
          directive('proxy_connect_timeout', [`${lb.upstream.connectTimeoutMs}ms`], {
            comment: 'A node that drops packets is skipped after this, not after the 60 s default.',
          }),
          directive('proxy_next_upstream', ['on']),
          directive('proxy_next_upstream_tries', [t.workers.length]),
        ]),
        BLANK,
        block('upstream', [API_UPSTREAM], apiServers.map((h) => directive(
          'server',
          [`${h.address}:${t.kubernetes.apiServerPort}`, ...passive],
          { trailingComment: h.name },
        ))),
        BLANK,
        block('server', [], [
          directive('listen', [t.kubernetes.apiServerPort], {
            comment: [
              'The control-plane endpoint: kubelets, kubeadm and kubeconfigs reach the API here, through the VIP.',
              'TLS passes through untouched (the API server certificate names the VIP).',
            ],
          }),
          directive('proxy_pass', [API_UPSTREAM]),
          directive('proxy_connect_timeout', [`${lb.upstream.connectTimeoutMs}ms`]),
          directive('proxy_next_upstream', ['on']),
          directive('proxy_next_upstream_tries', [apiServers.length]),
        ]),
      ]),
    ],
  };
}

export function renderNginxConf(t: Topology, nginx: NginxProfile): string {
  return printNginxConf(nginxConf(t, nginx));
}
