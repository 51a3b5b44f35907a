/**
 * The Topology: one fully resolved description of the whole system. Every renderer
 * and construct reads it; nothing else holds an address, a port or a host name.
 *
 * The config file has the same shape with every field optional (see `TopologyConfig`);
 * `loadTopology` deep-merges it over `DEFAULT_TOPOLOGY` and validates the result once.
 */

/** The package family of a host: decides package manager, repository layout and file paths. */
export enum OsFamily {
  /** RHEL, Rocky, Alma, CentOS Stream: dnf, /etc/sysconfig, SELinux. */
  RHEL = 'rhel',
  /** Debian, Ubuntu: apt, /etc/iptables, no SELinux. */
  DEBIAN = 'debian',
}

/** How kube-proxy programs Services into the kernel. */
export enum KubeProxyMode {
  IPVS = 'ipvs',
  NFTABLES = 'nftables',
  IPTABLES = 'iptables',
}

/** Which Terraform resource carries the provisioners. */
export enum ProvisionerResource {
  /** `null_resource` from the hashicorp/null provider (needs the provider from a registry or mirror). */
  NULL_RESOURCE = 'null_resource',
  /** Terraform's built-in `terraform_data`: no provider download, works air-gapped. */
  TERRAFORM_DATA = 'terraform_data',
}

/** How to reach and manage one machine. */
export interface HostAccess {
  /** Host name; also the node name in Kubernetes and the Terraform resource id. */
  readonly name: string;
  /** Package family of the operating system. */
  readonly osFamily: OsFamily;
  /** User for SSH; a non-root user must have passwordless sudo. */
  readonly sshUser: string;
}

/** A host with one NIC on the internal network. */
export interface InternalHost extends HostAccess {
  /** IPv4 address on the internal network. */
  readonly address: string;
  /** Name of the NIC that holds `address`. */
  readonly interface: string;
}

/** A Kubernetes worker: it runs one of the nginx Pods. */
export interface WorkerHost extends InternalHost {
  /** Content of this worker's test page, written to the workload's hostPath as index.html. */
  readonly page: string;
}

/** A load balancer: nginx stream proxy plus keepalived. */
export interface LoadBalancerHost extends InternalHost {
  /** VRRP priority, 1-254. The highest starts as MASTER, the others as BACKUP. */
  readonly priority: number;
}

/** One NIC of the gateway. */
export interface GatewayNic {
  readonly interface: string;
  readonly address: string;
}

export interface GatewayHost extends HostAccess {
  /** NIC on the internal network; the gateway is reached over SSH on this address. */
  readonly inside: GatewayNic;
  /** NIC on the external network; clients connect to this address. */
  readonly outside: GatewayNic;
}

export interface NetworksSpec {
  /** The internal network of the cluster, load balancers and the gateway's inside NIC. */
  readonly internal: string;
  /** The external network of the client and the gateway's outside NIC. */
  readonly external: string;
}

export interface VrrpSpec {
  /** virtual_router_id shared by all load balancers, 1-255. */
  readonly routerId: number;
  /** Seconds between VRRP adverts. */
  readonly advertIntervalSeconds: number;
  /**
   * Send adverts by unicast to the other load balancers instead of multicast,
   * for networks (many clouds, some switches) that drop VRRP multicast.
   */
  readonly unicast: boolean;
}

export interface HealthCheckSpec {
  /** Seconds between runs of check_nginx.sh. */
  readonly intervalSeconds: number;
  /** Consecutive failures before the check counts as failed. */
  readonly fall: number;
  /** Consecutive successes before it counts as passing again. */
  readonly rise: number;
  /**
   * Priority change on failure. 0 puts the instance in FAULT (the VIP moves in about
   * one advert interval); a negative value lowers the priority instead.
   */
  readonly weight: number;
  /** Seconds the check waits for the LB port to answer. */
  readonly timeoutSeconds: number;
}

export interface UpstreamSpec {
  /** Failed attempts after which nginx stops using a node for `failTimeoutSeconds`. */
  readonly maxFails: number;
  readonly failTimeoutSeconds: number;
  /**
   * Time nginx waits for a node to accept a connection before trying the next one.
   * nginx's default of 60 s makes a node that drops packets fail most requests.
   */
  readonly connectTimeoutMs: number;
}

export interface LoadBalancerSpec {
  /** The virtual IP that keepalived moves between the load balancers. */
  readonly vip: string;
  /** TCP port on which nginx listens on every address (and so on the VIP). */
  readonly listenPort: number;
  readonly hosts: readonly LoadBalancerHost[];
  readonly vrrp: VrrpSpec;
  readonly healthCheck: HealthCheckSpec;
  readonly upstream: UpstreamSpec;
}

export interface KubernetesSpec {
  /** Kubernetes minor release, "1.N"; picks the pkgs.k8s.io repository and kubeadm API. */
  readonly version: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly kubeProxyMode: KubeProxyMode;
  /** Pod network add-on. Only flannel is supported. */
  readonly cni: 'flannel';
  /** Pinned flannel release whose kube-flannel.yml is applied. */
  readonly flannelVersion: string;
  /** Container runtime. Only containerd is supported (dockershim was removed in 1.24). */
  readonly containerRuntime: 'containerd';
  /** Port of the API server on the control plane. */
  readonly apiServerPort: number;
  /** Lifetime of the bootstrap token created on the master for each join. */
  readonly joinTokenTtl: string;
}

export interface WorkloadSpec {
  /** Name prefix of the Pods ("<name>-<worker>") and of the Service ("<name>-svc"). */
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  /** Value of the `app` label shared by the Pods and selected by the Service. */
  readonly appLabel: string;
  /** Directory on each worker mounted at the web root. */
  readonly hostPath: string;
  /** Where the image serves files from. */
  readonly mountPath: string;
  readonly containerPort: number;
  readonly servicePort: number;
  /** The NodePort, 30000-32767, on which every node serves the Service. */
  readonly nodePort: number;
}

export interface ProvisioningSpec {
  readonly resource: ProvisionerResource;
}

export interface Topology {
  readonly networks: NetworksSpec;
  readonly controlPlane: InternalHost;
  readonly workers: readonly WorkerHost[];
  readonly loadBalancer: LoadBalancerSpec;
  readonly gateway: GatewayHost;
  readonly client: InternalHost;
  readonly kubernetes: KubernetesSpec;
  readonly workload: WorkloadSpec;
  readonly provisioning: ProvisioningSpec;
}

/** Fields every host may set; the ones it leaves out come from `hostDefaults`. */
export interface HostDefaults {
  readonly osFamily: OsFamily;
  readonly sshUser: string;
  readonly interface: string;
}

type DeepPartial<T> = T extends readonly (infer E)[]
  ? readonly DeepPartial<E>[]
  : T extends object
    ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** The config file: any part of the topology, plus defaults for per-host fields. */
export type TopologyConfig = DeepPartial<Topology> & { readonly hostDefaults?: Partial<HostDefaults> };
