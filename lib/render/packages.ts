import { OsFamily } from '../topology';
import { shq } from './shell';

/**
 * Shell that installs the packages not yet installed, and nothing when all are:
 * a second run neither hits the network nor changes the host.
 */
export function ensurePackages(family: OsFamily, packages: readonly string[], debconf: readonly string[] = []): string {
  // An array, not a word list: a loop over one literal word is a shellcheck warning (SC2043).
  const declare = `packages=(${packages.map(shq).join(' ')})`;
  if (family === OsFamily.DEBIAN) {
    return [
      declare,
      'missing=()',
      'for package in "${packages[@]}"; do',
      `  dpkg-query -W -f='\${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")`,
      'done',
      'if [ "${#missing[@]}" -gt 0 ]; then',
      ...debconf.map((line) => `  echo ${shq(line)} | debconf-set-selections`),
      '  apt-get update -q',
      '  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"',
      'fi',
    ].join('\n');
  }
  return [
    declare,
    'missing=()',
    'for package in "${packages[@]}"; do',
    '  rpm -q "$package" >/dev/null 2>&1 || missing+=("$package")',
    'done',
    'if [ "${#missing[@]}" -gt 0 ]; then',
    '  dnf install -y -q "${missing[@]}"',
    'fi',
  ].join('\n');
}

/** Stops and disables firewalld where it exists: the gateway's ruleset is the only firewall. */
export const DISABLE_FIREWALLD = `if systemctl is-enabled --quiet firewalld 2>/dev/null; then
  systemctl disable --now firewalld
fi`;
