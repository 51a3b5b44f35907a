export * from './types';
export * from './errors';
export { DEFAULT_CONFIG, SUPPORTED_KUBERNETES_MINORS } from './defaults';
export { loadTopology, readConfigFile, deepMerge } from './load';
export type { LoadTopologyOptions } from './load';
export { validateTopology } from './validate';
