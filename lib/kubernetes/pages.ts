import { Topology, WorkerHost } from '../topology';
import { lines, shellBody, shellScript } from '../formats/shell';

/** The test page a worker serves: its own text, so a client can tell the workers apart. */
export function renderPage(worker: WorkerHost): string {
  return lines(worker.page);
}

/** push-page.sh: puts index.html (the worker's own page, beside it) into the hostPath directory the worker's Pod serves. The same on every worker. */
export function renderPushPage(t: Topology): string {
  const dir = t.workload.hostPath;
  return shellScript(
    `Installs this worker's test page (index.html beside this script) into ${dir}.`,
    'cd "$(dirname "$0")"',
    shellBody('kubernetes/push-page.sh', { PAGE_DIR: dir }),
  );
}
