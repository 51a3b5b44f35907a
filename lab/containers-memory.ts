/**
 * The memory the lab's containers themselves took at the peak, from the cgroup lab/hosts.sh puts
 * every host in (`<hierarchy>/k8s-ha-edge-lab/<host>`). Unlike the drop of the machine's available
 * memory, it does not count what other work on the machine allocated meanwhile.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The parent cgroup of the lab's hosts (lab/hosts.sh LAB_CGNAME). */
export const LAB_CGROUP = process.env.LAB_CGNAME ?? 'k8s-ha-edge-lab';

/**
 * The high-water mark of a cgroup's memory, in bytes, since the cgroup was made: cgroup v2
 * `memory.peak`, cgroup v1 `memory.max_usage_in_bytes` (hierarchical: the hosts below it count).
 * Undefined when the memory controller is not there.
 */
export function cgroupPeakBytes(dir: string): number | undefined {
  for (const file of ['memory.peak', 'memory.max_usage_in_bytes']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const value = Number(readFileSync(path, 'utf8').trim());
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}

/** Directories named `name` below `root`, at most `depth` levels down (bounded: no symlinks followed). */
export function findCgroups(root: string, name: string, depth = 6): string[] {
  const found: string[] = [];
  const walk = (dir: string, left: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a cgroup removed while it is read
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      if (e.name === name) found.push(path);
      else if (left > 1) walk(path, left - 1);
    }
  };
  if (existsSync(root) && statSync(root).isDirectory()) walk(root, depth);
  return found;
}

/** The lab's containers' peak memory in MiB, or undefined when no hierarchy has the memory controller. */
export function containersPeakMiB(root = '/sys/fs/cgroup', name = LAB_CGROUP): number | undefined {
  const peaks = findCgroups(root, name).map(cgroupPeakBytes).filter((b): b is number => b !== undefined);
  return peaks.length === 0 ? undefined : Math.round(Math.max(...peaks) / 2 ** 20);
}
