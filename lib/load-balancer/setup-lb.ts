import { LoadBalancerHost, Topology } from '../topology';
import { CHECK_SCRIPT_PATH, LB_SYSCTL_FILE, NGINX_STATE_UNIT, NGINX_STOPPING_SCRIPT, SCRIPT_USER } from './keepalived';
import { osProfile } from '../os-profiles';
import { ensurePackages } from '../os-profiles/packages';
import { INSTALL_IF_CHANGED, shellScript } from '../formats/shell';
import { renderFirewalldOpenings, renderSelinuxPolicy } from './host-policy';
import { forwardsInFlight, inFlightSetup } from './in-flight';

/**
 * setup-lb.sh: installs nginx (with the stream module) and keepalived, gives them what SELinux
 * and firewalld would deny (before either starts), and puts their configuration in place only
 * after the real tools accepted it; reloads only what changed.
 */
export function renderSetupLb(t: Topology, host: LoadBalancerHost): string {
  const profile = osProfile(host);
  return shellScript(
    `Sets up ${host.name}: nginx stream proxy on port ${t.loadBalancer.listenPort} and keepalived for ${t.loadBalancer.vip}.`,
    'cd "$(dirname "$0")"',
    INSTALL_IF_CHANGED,
    ensurePackages(profile.packageManager, [...profile.nginx.packages, 'keepalived', ...(forwardsInFlight(t) ? profile.iptablesPackages : [])]),
    '',
    renderSelinuxPolicy(t, profile),
    '',
    renderFirewalldOpenings(t, host),
    '',
    `if ! id -u ${SCRIPT_USER} >/dev/null 2>&1; then`,
    `  useradd --system --no-create-home --shell /usr/sbin/nologin ${SCRIPT_USER}`,
    'fi',
    '',
    'nginx_changed=false',
    'keepalived_changed=false',
    '# The check goes first: keepalived --config-test disables (and fails on) a tracked script it cannot find.',
    `if install_if_changed check_nginx.sh ${CHECK_SCRIPT_PATH} 0755; then keepalived_changed=true; fi`,
    forwardsInFlight(t) && inFlightSetup(),
    '',
    '# Test the new files with the programs that read them before anything is replaced.',
    'nginx -t -q -c "$PWD/nginx.conf"',
    '# keepalived 2.2.7 (Debian 12) kills itself at the end of --config-test when script_user is set',
    '# (acassen/keepalived#2617, fixed in 2.2.8); as PID 1 of its own PID namespace it ignores that signal.',
    'unshare --pid --fork keepalived --config-test --use-file "$PWD/keepalived.conf"',
    '',
    'if install_if_changed nginx.conf /etc/nginx/nginx.conf 0644; then nginx_changed=true; fi',
    '# ARP only for the NIC\'s own addresses: the VIP may sit on lo while nginx is down.',
    `if install_if_changed lb-sysctl.conf ${LB_SYSCTL_FILE} 0644; then sysctl -q -p ${LB_SYSCTL_FILE}; fi`,
    '# nginx\'s state for keepalived: systemd runs the unit after nginx starts and before it stops.',
    `install_if_changed nginx-stopping.sh ${NGINX_STOPPING_SCRIPT} 0755 || true`,
    `if install_if_changed ${NGINX_STATE_UNIT} /etc/systemd/system/${NGINX_STATE_UNIT} 0644; then systemctl daemon-reload; fi`,
    'if install_if_changed keepalived.conf /etc/keepalived/keepalived.conf 0644; then keepalived_changed=true; fi',
    '',
    `systemctl enable --quiet nginx keepalived ${NGINX_STATE_UNIT}`,
    'if ! systemctl is-active --quiet nginx; then',
    '  systemctl start nginx',
    'elif [ "$nginx_changed" = true ]; then',
    '  systemctl reload nginx',
    'fi',
    `systemctl start ${NGINX_STATE_UNIT}`,
    '# keepalived starts after nginx, so its first check already passes.',
    'if ! systemctl is-active --quiet keepalived; then',
    '  systemctl start keepalived',
    'elif [ "$keepalived_changed" = true ]; then',
    '  systemctl reload keepalived',
    'fi',
  );
}
