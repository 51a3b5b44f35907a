import { PackageManager } from './os-profile';
import { shellBody, shq } from '../formats/shell';

export interface EnsurePackagesOptions {
  /** Installer answers preseeded before the install, so it asks nothing (debconf on Debian). @default none */
  readonly answers?: readonly string[];
  /** What to install for a missing package, e.g. a pinned version. @default the package name */
  readonly installSpec?: (pkg: string) => string;
  /** Extra flags for the install command. @default none */
  readonly installFlags?: readonly string[];
}

/**
 * Shell that installs the packages not yet installed, and nothing when all are:
 * a second run neither hits the network nor changes the host.
 */
export function ensurePackages(pm: PackageManager, packages: readonly string[], options: EnsurePackagesOptions = {}): string {
  // An array, not a word list: a loop over one literal word is a shellcheck warning (SC2043).
  const declare = `packages=(${packages.map(shq).join(' ')})`;
  const spec = options.installSpec ?? ((pkg: string) => pkg);
  // Install specs are looked up by name, so only the missing ones are installed.
  const specs = packages.some((p) => spec(p) !== p)
    ? ['declare -A spec=(' + packages.map((p) => `[${shq(p)}]=${shq(spec(p))}`).join(' ') + ')']
    : [];
  const flags = (options.installFlags ?? []).map((f) => ` ${f}`).join('');
  return [
    declare,
    ...specs,
    'missing=()',
    'for package in "${packages[@]}"; do',
    `  ${pm.isInstalled} || missing+=("${specs.length > 0 ? '${spec[$package]}' : '$package'}")`,
    'done',
    'if [ "${#missing[@]}" -gt 0 ]; then',
    ...[...pm.beforeInstall(options.answers ?? []), pm.install(flags)].map((command) => `  ${command}`),
    'fi',
  ].join('\n');
}

/** Stops and disables firewalld where it exists: the gateway's ruleset is the only firewall. */
export const DISABLE_FIREWALLD = shellBody('os-profiles/disable-firewalld.sh').text.trimEnd();
