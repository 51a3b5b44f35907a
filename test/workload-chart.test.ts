import { Testing } from 'cdk8s';
import { APP_LABEL_KEY, NginxPagesChart } from '../constructs/k8s/nginx-pages-chart';
import { chartYaml, synthWorkloadManifest, workloadYaml } from '../constructs/k8s/workload-app';
import { loadTopology, Topology } from '../lib/topology';
import { schemaProblems } from '../validate/k8s-schema';
import { stringify } from 'yaml';
import { scratchDir } from './support/scratch';

function synth(t: Topology): any[] {
  const chart = new NginxPagesChart(Testing.app({ outdir: scratchDir('k8s-ha-edge-cdk8s-app-') }), 'workload', { workload: t.workload, workers: t.workers });
  return Testing.synth(chart);
}
const pods = (objects: any[]) => objects.filter((o) => o.kind === 'Pod');
const service = (objects: any[]) => objects.find((o) => o.kind === 'Service');

/** Does a Service selector select an object with these labels? (equality-based, like kube-proxy) */
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('GIVEN the seed topology WHEN the workload chart is synthesized', () => {
  const t = loadTopology();
  const objects = synth(t);

  test('THEN there is one Pod per worker, each pinned to its own node', () => {
    expect(pods(objects).map((p) => [p.metadata.name, p.spec.nodeName])).toEqual([
      ['mcl-nginx-node01', 'node01'],
      ['mcl-nginx-node02', 'node02'],
    ]);
  });

  test('THEN each Pod mounts the hostPath /data (DirectoryOrCreate) at the web root, port 80', () => {
    for (const pod of pods(objects)) {
      const [container] = pod.spec.containers;
      expect(container.image).toBe('nginx:1.30.1');
      expect(container.ports).toEqual([{ containerPort: 80, name: 'http', protocol: 'TCP' }]);
      const [mount] = container.volumeMounts;
      expect(mount.mountPath).toBe('/usr/share/nginx/html');
      const volume = pod.spec.volumes.find((v: any) => v.name === mount.name);
      expect(volume.hostPath).toEqual({ path: '/data', type: 'DirectoryOrCreate' });
    }
  });

  test('THEN the Service is a NodePort 80 → 80 on 30000 and selects every Pod and nothing else', () => {
    const svc = service(objects);
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 80, nodePort: 30000, protocol: 'TCP' }]);
    expect(svc.spec.selector).toEqual({ [APP_LABEL_KEY]: 'mcl-nginx' });
    for (const pod of pods(objects)) expect(selects(svc.spec.selector, pod.metadata.labels)).toBe(true);
    // Nothing else: the selector is not empty (an empty selector would match every Pod in the namespace).
    expect(Object.keys(svc.spec.selector).length).toBeGreaterThan(0);
    expect(selects(svc.spec.selector, { app: 'other' })).toBe(false);
  });

  test('THEN the cdk8s-plus defaults that would stop the stock nginx image or surprise a reviewer are set deliberately', () => {
    for (const pod of pods(objects)) {
      const [container] = pod.spec.containers;
      expect(container.securityContext.runAsNonRoot).toBe(false);
      expect(container.securityContext.readOnlyRootFilesystem).toBe(false);
      expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(container.imagePullPolicy).toBe('IfNotPresent');
      expect(container.startupProbe).toBeUndefined();
      expect(container.resources.requests).toEqual({ cpu: '50m', memory: '32Mi' });
      expect(pod.spec.securityContext.runAsNonRoot).toBe(false);
      expect(Object.keys(pod.metadata.labels)).toEqual([APP_LABEL_KEY]);
    }
    expect(service(objects).spec).not.toHaveProperty('externalIPs');
  });

  test('THEN every manifest validates against the Kubernetes OpenAPI schema', () => {
    expect(schemaProblems(objects.map((o) => stringify(o)).join('---\n'))).toEqual([]);
  });

  test('THEN the manifests read as reviewed (snapshot)', () => {
    expect(objects).toMatchSnapshot();
  });
});

describe('GIVEN a custom topology with three workers and another NodePort', () => {
  const t = loadTopology({ configPath: `${__dirname}/../examples/custom-three-workers.yaml` });
  const objects = synth(t);

  test('THEN there are three Pods on three distinct nodes, all selected, on the custom NodePort', () => {
    expect(pods(objects).map((p) => p.spec.nodeName)).toEqual(['w1', 'w2', 'w3']);
    const svc = service(objects);
    expect(svc.spec.ports[0].nodePort).toBe(31080);
    for (const pod of pods(objects)) expect(selects(svc.spec.selector, pod.metadata.labels)).toBe(true);
    expect(schemaProblems(objects.map((o) => stringify(o)).join('---\n'))).toEqual([]);
  });
});

describe('the schema check itself', () => {
  test('fails a manifest with a wrong type and an unknown kind', () => {
    const problems = schemaProblems([
      'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, nodePort: "x"}]}',
      'apiVersion: v1\nkind: Frobnicator\nmetadata: {name: f}',
    ].join('\n---\n'));
    expect(problems).toEqual([
      expect.stringMatching(/Service s: .*nodePort must be integer/),
      'v1/Frobnicator: no schema known for this kind',
    ]);
  });

  test('the chart refuses an empty worker list', () => {
    const t = loadTopology();
    expect(() => new NginxPagesChart(Testing.app({ outdir: scratchDir('k8s-ha-edge-cdk8s-app-') }), 'w', { workload: t.workload, workers: [] })).toThrow(/workers: got an empty list/);
  });
});

describe('the workload manifest that synth writes (one Pod synthesized, then one per worker from it)', () => {
  const workers = (names: string[]) => names.map((name, i) => ({ name, address: `192.168.10.${20 + i}` }));
  test.each([
    ['the seed', {}],
    ['three workers, a namespace of its own', { workers: workers(['w1', 'w2', 'w3']), workload: { namespace: 'pages' } }],
    ['names YAML would quote (all digits) and long ones', { workers: workers(['123', 'a'.repeat(53), 'node-7']) }],
    ['another image, ports and hostPath', { workers: workers(['x1', 'x2']), workload: { image: 'nginx:1.29.0', containerPort: 8080, hostPath: '/srv/page', nodePort: 31000 } }],
  ])('GIVEN %s THEN it is byte for byte what cdk8s synthesizes with a Pod construct per worker', (_name, overrides) => {
    const t = loadTopology({ overrides });
    const expected = chartYaml(t.workload, t.workers);
    expect(workloadYaml(t.workload, t.workers)).toBe(expected);
    expect(synthWorkloadManifest(t).content).toBe(expected);
    expect(expected.split(/^kind: Pod$/m)).toHaveLength(t.workers.length + 1);
  });
});
