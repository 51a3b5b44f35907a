import { Topology, WorkerHost } from '../topology';
import { lines, shellBody, shellScript } from '../formats/shell';

/** The test page a worker serves: its own text, so a client can tell the workers apart. */
export function renderPage(worker: WorkerHost): string {
  return lines(worker.page);
}

/** push-page.sh: puts index.html into the hostPath directory the worker's Pod serves. */
export function renderPushPage(t: Topology, worker: WorkerHost): string {
  const dir = t.workload.hostPath;
  return shellScript(
    `Installs ${worker.name}'s test page into ${dir}.`,
    'cd "$(dirname "$0")"',
    shellBody('kubernetes/push-page.sh', { PAGE_DIR: dir }),
  );
}
