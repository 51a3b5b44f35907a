import { OsFamily, Topology } from '../topology';
import { lines } from './shell';

/** Where each family's nginx package keeps its dynamic-module loader snippets. */
const MODULE_INCLUDES: Record<OsFamily, string> = {
  // libnginx-mod-stream drops 50-mod-stream.conf here.
  [OsFamily.DEBIAN]: '/etc/nginx/modules-enabled/*.conf',
  // nginx-mod-stream drops mod-stream.conf here.
  [OsFamily.RHEL]: '/usr/share/nginx/modules/*.conf',
};
const NGINX_USER: Record<OsFamily, string> = {
  [OsFamily.DEBIAN]: 'www-data',
  [OsFamily.RHEL]: 'nginx',
};
/** The package that builds the stream module on each family. */
export const NGINX_PACKAGES: Record<OsFamily, string[]> = {
  [OsFamily.DEBIAN]: ['nginx', 'libnginx-mod-stream'],
  [OsFamily.RHEL]: ['nginx', 'nginx-mod-stream'],
};

/**
 * A whole nginx.conf for a load balancer: an L4 `stream` proxy from the LB port to every
 * worker's NodePort, and no `http` block (the LB serves nothing on port 80).
 */
export function renderNginxConf(t: Topology, family: OsFamily): string {
  const lb = t.loadBalancer;
  const upstream = `${t.workload.name}-nodeports`;
  return lines(
    '# nginx.conf for a k8s-ha-edge load balancer. Generated from the topology.',
    `user ${NGINX_USER[family]};`,
    'worker_processes auto;',
    'pid /run/nginx.pid;',
    'error_log /var/log/nginx/error.log warn;',
    '# The stream module is built as a dynamic module on this family.',
    `include ${MODULE_INCLUDES[family]};`,
    '',
    'events {',
    '    worker_connections 1024;',
    '}',
    '',
    'stream {',
    "    log_format proxy '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received '",
    "                     '$session_time \"$upstream_addr\" $upstream_connect_time';",
    '    access_log /var/log/nginx/k8s-access.log proxy;',
    '',
    `    upstream ${upstream} {`,
    ...t.workers.map((w) => `        server ${w.address}:${t.workload.nodePort} max_fails=${lb.upstream.maxFails} fail_timeout=${lb.upstream.failTimeoutSeconds}s;  # ${w.name}`),
    '    }',
    '',
    '    server {',
    '        # Every address, not only the VIP: a BACKUP serves the moment the VIP arrives,',
    '        # and nginx needs no restart (nor ip_nonlocal_bind) when it moves.',
    `        listen ${lb.listenPort};`,
    `        proxy_pass ${upstream};`,
    '        # A node that drops packets is skipped after this, not after the 60 s default.',
    `        proxy_connect_timeout ${lb.upstream.connectTimeoutMs}ms;`,
    '        proxy_next_upstream on;',
    `        proxy_next_upstream_tries ${t.workers.length};`,
    '    }',
    '}',
  );
}
