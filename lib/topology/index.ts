export { FlannelManifestSource, KubeProxyMode, OsFamily, ProvisionerResource, StateBackend } from './config-schema';
export type {
  GatewayNic,
  HealthCheckSpec,
  HostDefaults,
  KubernetesSpec,
  NetworksSpec,
  ProvisioningSpec,
  UpstreamSpec,
  VrrpSpec,
  WorkloadSpec,
} from './config-schema';
export type {
  GatewayHost,
  GatewayPair,
  GatewaySpec,
  HostAccess,
  HostFacts,
  InternalHost,
  LoadBalancerFacts,
  LoadBalancerHost,
  LoadBalancerSpec,
  SudoPrefix,
  Topology,
  WorkerHost,
} from './topology';
export { TopologyError } from './errors';
export { formatWarning, topologyWarnings } from './warnings';
export type { TopologyWarning } from './warnings';
export type { TopologyProblem } from './errors';
export { BUNDLED_FLANNEL_VERSION, CLUSTER_DNS_DOMAIN, flannelManifestUrlOf, SSH_PORT, SUPPORTED_KUBERNETES_MINORS } from './defaults';
export { loadConfig, loadTopology, readConfigFile, deepMerge, topologyOf } from './load';
export type { LoadTopologyOptions } from './load';
export { bundleResourceIds, DEFAULT_NAMESPACE, NULL_PROVIDER_ID, pageBundleId, podName, serviceName, TEARDOWN_STORED_ONLY, WORKLOAD_BUNDLE_ID } from './names';
