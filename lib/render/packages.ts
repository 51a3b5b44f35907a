import { OsFamily } from '../topology';
import { shq } from './shell';

export interface EnsurePackagesOptions {
  /** debconf answers set before a Debian install, so it asks nothing. @default none */
  readonly debconf?: readonly string[];
  /** What to install for a missing package, e.g. a pinned version. @default the package name */
  readonly installSpec?: (pkg: string) => string;
  /** Extra flags for apt-get install / dnf install. @default none */
  readonly installFlags?: readonly string[];
}

/**
 * Shell that installs the packages not yet installed, and nothing when all are:
 * a second run neither hits the network nor changes the host.
 */
export function ensurePackages(family: OsFamily, packages: readonly string[], options: EnsurePackagesOptions = {}): string {
  // An array, not a word list: a loop over one literal word is a shellcheck warning (SC2043).
  const declare = `packages=(${packages.map(shq).join(' ')})`;
  const spec = options.installSpec ?? ((pkg: string) => pkg);
  // Install specs are looked up by name, so only the missing ones are installed.
  const specs = packages.some((p) => spec(p) !== p)
    ? ['declare -A spec=(' + packages.map((p) => `[${shq(p)}]=${shq(spec(p))}`).join(' ') + ')']
    : [];
  const collect = (installed: string) => [
    declare,
    ...specs,
    'missing=()',
    'for package in "${packages[@]}"; do',
    `  ${installed} || missing+=("${specs.length > 0 ? '${spec[$package]}' : '$package'}")`,
    'done',
  ];
  const flags = (options.installFlags ?? []).map((f) => ` ${f}`).join('');
  if (family === OsFamily.DEBIAN) {
    return [
      // One package per query: dpkg-query prints several statuses without a separator.
      ...collect(`dpkg-query -W -f='\${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'`),
      'if [ "${#missing[@]}" -gt 0 ]; then',
      ...(options.debconf ?? []).map((line) => `  echo ${shq(line)} | debconf-set-selections`),
      '  apt-get update -q',
      `  DEBIAN_FRONTEND=noninteractive apt-get install -y -q${flags} "\${missing[@]}"`,
      'fi',
    ].join('\n');
  }
  return [
    ...collect('rpm -q "$package" >/dev/null 2>&1'),
    'if [ "${#missing[@]}" -gt 0 ]; then',
    `  dnf install -y -q${flags} "\${missing[@]}"`,
    'fi',
  ].join('\n');
}

/** Stops and disables firewalld where it exists: the gateway's ruleset is the only firewall. */
export const DISABLE_FIREWALLD = `if systemctl is-enabled --quiet firewalld 2>/dev/null; then
  systemctl disable --now firewalld
fi`;
