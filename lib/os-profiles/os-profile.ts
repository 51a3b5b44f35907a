import { KubernetesSpec, OsFamily } from '../topology';
import { ShellPart } from '../formats/shell';

/** How a family's package manager is driven from a generated script (see ensurePackages). */
export interface PackageManager {
  /** A shell condition that holds when "$package" is installed. */
  readonly isInstalled: string;
  /** Commands run before the install, when a package is missing: preseeded answers, an index refresh. */
  readonly beforeInstall: (answers: readonly string[]) => string[];
  /** The command that installs "${missing[@]}"; `flags` is empty or starts with a space. */
  readonly install: (flags: string) => string;
  /**
   * The command an operator runs to upgrade one installed package (quoted in error messages); it
   * releases the package's hold first (see `hold`), and the next apply holds the new version.
   */
  readonly upgrade: (pkg: string) => string;
  /**
   * Shell that holds installed packages at their version, so an ordinary upgrade of the host does
   * not move them (containerd.io under a kubelet that is held); quiet and changes nothing when held.
   */
  readonly hold: (packages: readonly string[]) => string;
}

/** What the nginx package of a family looks like. */
export interface NginxProfile {
  /** The user the workers run as (the package creates it). */
  readonly user: string;
  /** The glob of the package's dynamic-module loader snippets, for `include`. */
  readonly moduleInclude: string;
  /** nginx and the package that builds its stream module. */
  readonly packages: readonly string[];
}

/** Where one address family's ruleset is kept and which boot-time service restores it. */
export interface PersistedRuleset {
  /** The file the boot-time service restores. */
  readonly file: string;
  readonly service: string;
}

/** How a family keeps the iptables and ip6tables rulesets across reboots. */
export interface FirewallPersistence {
  readonly ipv4: PersistedRuleset;
  readonly ipv6: PersistedRuleset;
  readonly packages: readonly string[];
  /** Installer answers preseeded before the packages are installed. */
  readonly answers: readonly string[];
}

/**
 * Every fact that differs between OS families, in one record per family (as kubespray keeps
 * one vars file per OS). Renderers and the validator read these fields and never branch on
 * the family: adding a family is adding a profile.
 */
export interface OsProfile {
  readonly family: OsFamily;
  readonly packageManager: PackageManager;
  readonly nginx: NginxProfile;
  readonly firewallPersistence: FirewallPersistence;
  /** The package that brings `iptables` and `iptables-restore` (the nf_tables variant), for a load balancer's in-flight rules. */
  readonly iptablesPackages: readonly string[];
  /** Packages every Kubernetes node gets besides containerd, the kube tools and the ipvs tools. */
  readonly nodeToolPackages: readonly string[];
  /** What a gateway of a pair installs: keepalived, and conntrackd (with the `conntrack` tool verify reads the table with). */
  readonly gatewayPairPackages: readonly string[];
  /** SELinux is enforcing out of the box: Kubernetes nodes set it permissive; load balancers keep it and get the policy they need. */
  readonly selinux: boolean;
  /**
   * The packages that bring `semanage` (and `getsebool`/`setsebool`), installed on a load balancer
   * only when SELinux is enabled there. Empty: the family does not ship SELinux, and setup leaves it alone.
   */
  readonly selinuxPolicyPackages: readonly string[];
  /**
   * firewalld is enabled out of the box: nodes and the gateway turn it off (the gateway's ruleset is
   * the only firewall); load balancers keep it, opening VRRP and the LB port (on any family where it runs).
   */
  readonly firewalld: boolean;
  /** Shell that adds Docker's repository, which carries containerd.io 2.x (current Kubernetes needs it; distributions lag behind). */
  readonly containerdRepository: ShellPart;
  /** What to do when the host boots with cgroup v1, which kubelet 1.35 and later refuse (failCgroupV1). */
  readonly cgroupV2Remedy: string;
  readonly kubernetes: KubernetesPackaging;
  readonly timeSync: TimeSyncProfile;
}

/** How a family runs chrony, the time sync daemon of every Kubernetes node. */
export interface TimeSyncProfile {
  /** The package that brings chronyd and chronyc. */
  readonly packages: readonly string[];
  /** Its systemd unit. */
  readonly service: string;
  /** The chrony.conf chronyd reads. */
  readonly config: string;
  /** Where the family's own chrony.conf keeps the clock's drift rate (kept, so a replaced config does not lose it). */
  readonly driftFile: string;
}

/** How a family gets kubelet, kubeadm and kubectl from pkgs.k8s.io and keeps them at the chosen minor. */
export interface KubernetesPackaging {
  /** Shell that adds the repository of the spec's minor. */
  readonly repository: (spec: KubernetesSpec) => ShellPart;
  /** How a package pinned to a patch release is named for the installer. */
  readonly pinned: (pkg: string, patch: string) => string;
  /** Flags the install needs to get past the hold. */
  readonly installFlags: readonly string[];
  /** Shell that holds the installed packages; undefined when the repository definition already holds them. */
  readonly hold?: (packages: readonly string[]) => string;
  /**
   * A shell function `move PACKAGE...` (npm run upgrade): moves installed packages past their hold to
   * "$VERSION" (x.y.z) when it is set, else to the newest of the configured repository, and holds them again.
   */
  readonly move: string;
}
