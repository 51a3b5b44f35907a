import { ApiObject, Chart, ChartProps, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { DEFAULT_NAMESPACE, podName, serviceName, WorkerHost, WorkloadSpec } from '../../lib/topology';

export interface NginxPagesChartProps extends ChartProps {
  /** The Pods' image, names, label, hostPath and ports, and the Service's NodePort. */
  readonly workload: WorkloadSpec;
  /** One Pod is pinned to each of these workers. Must not be empty. */
  readonly workers: readonly WorkerHost[];
}

/** The `app` label key shared by the Pods and selected by the Service. */
export const APP_LABEL_KEY = 'app';

/**
 * One nginx Pod per worker, each pinned to its node and serving that node's
 * hostPath directory, and one NodePort Service selecting exactly those Pods.
 *
 * cdk8s-plus-27 applies hardening defaults meant for new applications. The stock
 * `nginx` image (1.30.1 by default; the original write-up's 1.14 alike) runs as root, writes its pid and cache into the root
 * filesystem and binds port 80, so each default is set here on purpose.
 */
export class NginxPagesChart extends Chart {
  /** The Pods, in the order of `props.workers`. */
  public readonly pods: readonly kplus.Pod[];
  public readonly service: kplus.Service;
  /** The namespace of the Pods and the Service, when it is not `default` (which always exists). */
  public readonly namespaceObject?: kplus.Namespace;

  constructor(scope: Construct, id: string, props: NginxPagesChartProps) {
    super(scope, id, { ...props, namespace: props.namespace ?? props.workload.namespace });
    const { workload } = props;
    if (props.workers.length === 0) {
      throw new Error('NginxPagesChart: workers: got an empty list, expected at least one worker');
    }

    // First in the manifest: `kubectl apply -f` creates objects in file order, so the
    // namespace exists before the Pods and the Service in it. `default` always exists.
    const namespace = props.namespace ?? workload.namespace;
    if (namespace !== DEFAULT_NAMESPACE) {
      this.namespaceObject = new kplus.Namespace(this, 'Namespace', { metadata: { name: namespace } });
      // A Namespace is cluster-scoped: the chart's namespace does not belong on it, nor does an empty spec.
      ApiObject.of(this.namespaceObject).addJsonPatch(JsonPatch.remove('/metadata/namespace'), JsonPatch.remove('/spec'));
    }

    this.pods = props.workers.map((worker) => this.podFor(worker, workload));

    // Construct ids of the chart's own objects are capitalised: a worker's id (its host name, a
    // lowercase DNS label) can never take one of them.
    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: serviceName(workload) },
      type: kplus.ServiceType.NODE_PORT,
      ports: [{
        name: 'http',
        port: workload.servicePort,
        targetPort: workload.containerPort,
        nodePort: workload.nodePort,
        protocol: kplus.Protocol.TCP,
      }],
    });
    this.service.selectLabel(APP_LABEL_KEY, workload.appLabel);
    // cdk8s-plus always writes `externalIPs: []`; an empty list is noise in review.
    ApiObject.of(this.service).addJsonPatch(JsonPatch.remove('/spec/externalIPs'));
  }

  private podFor(worker: WorkerHost, workload: WorkloadSpec): kplus.Pod {
    const page = kplus.Volume.fromHostPath(this, `${worker.name}-PageVolume`, 'page', {
      path: workload.hostPath,
      type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE,
    });
    const pod = new kplus.Pod(this, worker.name, {
      metadata: {
        name: podName(workload, worker.name),
        labels: { [APP_LABEL_KEY]: workload.appLabel },
      },
      // The stock nginx image's master process runs as root and drops to the nginx user itself.
      securityContext: { ensureNonRoot: false },
      // The Pods need no API access; keep the token out of them (cdk8s-plus' default too).
      automountServiceAccountToken: false,
      containers: [{
        name: 'nginx',
        image: workload.image,
        // The tag names an immutable release; IfNotPresent also lets pre-loaded images work offline.
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        // Declared through `ports`, not `portNumber`: the latter adds a default startup probe.
        ports: [{ name: 'http', number: workload.containerPort, protocol: kplus.Protocol.TCP }],
        securityContext: {
          ensureNonRoot: false,
          // nginx writes /var/cache/nginx and /var/run/nginx.pid.
          readOnlyRootFilesystem: false,
          allowPrivilegeEscalation: false,
        },
        // Sized for the original write-up's 2-CPU/2-GiB workers, not cdk8s-plus' 1 CPU/512Mi request.
        resources: {
          cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
          memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
        },
        readiness: kplus.Probe.fromHttpGet('/', { port: workload.containerPort }),
        // nginx only reads the page; the node's provisioning writes it.
        volumeMounts: [{ volume: page, path: workload.mountPath, readOnly: true }],
      }],
    });
    pod.scheduling.assign(kplus.Node.named(worker.name));
    // An internal cdk8s label with the construct path: noise for a reviewer, and it would
    // make each Pod's label set differ from the one the Service selects.
    ApiObject.of(pod).addJsonPatch(JsonPatch.remove(`/metadata/labels/${escapePointer(kplus.Pod.ADDRESS_LABEL)}`));
    return pod;
  }
}

/** Escapes a JSON Pointer segment (RFC 6901). */
function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
