import { show, TopologyProblem } from './errors';
import { KubeProxyMode, OsFamily, ProvisionerResource } from './types';

/**
 * The structure of a config file: which keys exist, and the type of each value.
 * Checked before merging, so a typo such as `vipp` or a port written as "3344"
 * is reported at the path the user wrote, instead of silently falling back to a default.
 */
export type Shape =
  | { readonly kind: 'string' }
  | { readonly kind: 'integer' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, Shape>>; readonly required?: readonly string[] }
  | { readonly kind: 'list'; readonly of: Shape };

const STRING: Shape = { kind: 'string' };
const INTEGER: Shape = { kind: 'integer' };
const BOOLEAN: Shape = { kind: 'boolean' };
const enumOf = (values: Record<string, string>): Shape => ({ kind: 'enum', values: Object.values(values) });

const HOST_ACCESS_FIELDS = {
  name: STRING,
  osFamily: enumOf(OsFamily),
  sshUser: STRING,
};
const INTERNAL_HOST_FIELDS = { ...HOST_ACCESS_FIELDS, address: STRING, interface: STRING };
const NIC: Shape = { kind: 'object', fields: { interface: STRING, address: STRING } };

export const CONFIG_SHAPE: Shape = {
  kind: 'object',
  fields: {
    hostDefaults: { kind: 'object', fields: { osFamily: enumOf(OsFamily), sshUser: STRING, interface: STRING } },
    networks: { kind: 'object', fields: { internal: STRING, external: STRING } },
    controlPlane: { kind: 'object', fields: INTERNAL_HOST_FIELDS },
    workers: {
      kind: 'list',
      of: { kind: 'object', fields: { ...INTERNAL_HOST_FIELDS, page: STRING }, required: ['name', 'address'] },
    },
    loadBalancer: {
      kind: 'object',
      fields: {
        vip: STRING,
        listenPort: INTEGER,
        hosts: {
          kind: 'list',
          of: {
            kind: 'object',
            fields: { ...INTERNAL_HOST_FIELDS, priority: INTEGER },
            required: ['name', 'address', 'priority'],
          },
        },
        vrrp: {
          kind: 'object',
          fields: { routerId: INTEGER, advertIntervalSeconds: INTEGER, unicast: BOOLEAN },
        },
        healthCheck: {
          kind: 'object',
          fields: { intervalSeconds: INTEGER, fall: INTEGER, rise: INTEGER, weight: INTEGER, timeoutSeconds: INTEGER },
        },
        upstream: {
          kind: 'object',
          fields: { maxFails: INTEGER, failTimeoutSeconds: INTEGER, connectTimeoutMs: INTEGER },
        },
      },
    },
    gateway: { kind: 'object', fields: { ...HOST_ACCESS_FIELDS, inside: NIC, outside: NIC } },
    client: { kind: 'object', fields: INTERNAL_HOST_FIELDS },
    kubernetes: {
      kind: 'object',
      fields: {
        version: STRING,
        podCidr: STRING,
        serviceCidr: STRING,
        kubeProxyMode: enumOf(KubeProxyMode),
        cni: { kind: 'enum', values: ['flannel'] },
        flannelVersion: STRING,
        containerRuntime: { kind: 'enum', values: ['containerd'] },
        apiServerPort: INTEGER,
        joinTokenTtl: STRING,
      },
    },
    workload: {
      kind: 'object',
      fields: {
        name: STRING,
        namespace: STRING,
        image: STRING,
        appLabel: STRING,
        hostPath: STRING,
        mountPath: STRING,
        containerPort: INTEGER,
        servicePort: INTEGER,
        nodePort: INTEGER,
      },
    },
    provisioning: { kind: 'object', fields: { resource: enumOf(ProvisionerResource) } },
  },
};

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Lists every place where `value` does not have the structure `shape` describes. */
export function checkShape(value: unknown, shape: Shape, path = ''): TopologyProblem[] {
  const at = path === '' ? '(top level)' : path;
  switch (shape.kind) {
    case 'string':
      return typeof value === 'string' ? [] : [{ path: at, got: show(value), expected: 'a string' }];
    case 'integer':
      return Number.isInteger(value) ? [] : [{ path: at, got: show(value), expected: 'an integer' }];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [{ path: at, got: show(value), expected: 'true or false' }];
    case 'enum':
      return typeof value === 'string' && shape.values.includes(value)
        ? []
        : [{ path: at, got: show(value), expected: `one of ${shape.values.join(', ')}` }];
    case 'list':
      if (!Array.isArray(value)) return [{ path: at, got: show(value), expected: 'a list' }];
      return value.flatMap((item, index) => checkShape(item, shape.of, `${path}[${index}]`));
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [{ path: at, got: show(value), expected: 'a mapping' }];
      }
      const problems: TopologyProblem[] = [];
      const known = Object.keys(shape.fields);
      for (const [key, child] of Object.entries(value)) {
        const childShape = shape.fields[key];
        if (childShape === undefined) {
          problems.push({ path: join(path, key), got: 'an unknown key', expected: `one of ${known.join(', ')}` });
        } else {
          problems.push(...checkShape(child, childShape, join(path, key)));
        }
      }
      for (const key of shape.required ?? []) {
        if (!(key in value)) problems.push({ path: join(path, key), got: 'nothing', expected: 'a value (required)' });
      }
      return problems;
    }
  }
}
