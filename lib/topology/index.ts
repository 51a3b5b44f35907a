export * from './types';
export * from './errors';
export { CLUSTER_DNS_DOMAIN, DEFAULT_CONFIG, SSH_PORT, SUPPORTED_KUBERNETES_MINORS } from './defaults';
export { loadTopology, readConfigFile, deepMerge } from './load';
export type { LoadTopologyOptions } from './load';
export { validateTopology } from './validate';
