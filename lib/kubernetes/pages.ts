import { Topology, WorkerHost } from '../topology';
import { lines, scriptHeader, shq } from '../formats/shell';

/** The test page a worker serves: its own text, so a client can tell the workers apart. */
export function renderPage(worker: WorkerHost): string {
  return lines(worker.page);
}

/** push-page.sh: puts index.html into the hostPath directory the worker's Pod serves. */
export function renderPushPage(t: Topology, worker: WorkerHost): string {
  const dir = t.workload.hostPath;
  return lines(
    scriptHeader(`Installs ${worker.name}'s test page into ${dir}.`),
    'cd "$(dirname "$0")"',
    `install -d -m 0755 ${shq(dir)}`,
    `install -m 0644 index.html ${shq(`${dir}/index.html`)}`,
  );
}
