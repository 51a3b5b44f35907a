import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupPeakBytes, containersPeakMiB, findCgroups } from '../lab/containers-memory';

describe("the lab containers' own peak memory", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-cgroups-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const cgroup = (path: string, files: Record<string, string> = {}) => {
    mkdirSync(join(root, path), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, path, name), text);
  };

  test('GIVEN cgroup v1 hierarchies THEN the memory one, below the process own cgroup, gives the peak', () => {
    // As lab/hosts.sh makes them: one lab cgroup in every hierarchy, the memory one nested where this process runs.
    cgroup('cpu/k8s-ha-edge-lab/lb01');
    cgroup('pids/k8s-ha-edge-lab', { 'pids.max': 'max\n' });
    cgroup('memory/process_api/abc/k8s-ha-edge-lab', { 'memory.max_usage_in_bytes': `${366 * 2 ** 20 + 300_000}\n`, 'memory.usage_in_bytes': '1\n' });
    cgroup('memory/process_api/abc/k8s-ha-edge-lab/node01', { 'memory.max_usage_in_bytes': `${2 ** 20}\n` });
    expect(findCgroups(root, 'k8s-ha-edge-lab').sort()).toEqual([
      join(root, 'cpu/k8s-ha-edge-lab'), join(root, 'memory/process_api/abc/k8s-ha-edge-lab'), join(root, 'pids/k8s-ha-edge-lab'),
    ]);
    expect(containersPeakMiB(root)).toBe(366);
  });

  test('GIVEN cgroup v2 THEN memory.peak', () => {
    cgroup('k8s-ha-edge-lab', { 'memory.peak': `${512 * 2 ** 20}\n`, 'memory.current': '5\n' });
    expect(cgroupPeakBytes(join(root, 'k8s-ha-edge-lab'))).toBe(512 * 2 ** 20);
    expect(containersPeakMiB(root)).toBe(512);
  });

  test('GIVEN no memory controller or no lab cgroup THEN no figure rather than a wrong one', () => {
    cgroup('cpu/k8s-ha-edge-lab');
    expect(containersPeakMiB(root)).toBeUndefined();
    expect(containersPeakMiB(join(root, 'absent'))).toBeUndefined();
  });

  test('GIVEN a lab cgroup deeper than the bound THEN it is not searched for', () => {
    cgroup('a/b/c/d/e/f/g/k8s-ha-edge-lab', { 'memory.peak': '1048576\n' });
    expect(containersPeakMiB(root)).toBeUndefined();
    expect(findCgroups(root, 'k8s-ha-edge-lab', 8)).toHaveLength(1);
  });
});
