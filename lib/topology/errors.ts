/** One problem in a topology, in the form "path: got X, expected Y". */
export interface TopologyProblem {
  /** Config path, e.g. `loadBalancer.hosts[1].priority`. */
  readonly path: string;
  /** The offending value as the user wrote it (already formatted for display). */
  readonly got: string;
  /** What would have been accepted. */
  readonly expected: string;
}

function formatProblem(problem: TopologyProblem): string {
  return `${problem.path}: got ${problem.got}, expected ${problem.expected}`;
}

/** Formats a config value for an error message: strings quoted, objects as JSON, absent as "nothing". */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects were handled above: what is left is a primitive
  return String(value);
}

/**
 * Thrown when a config file cannot be read or the topology it describes is invalid.
 * Carries every problem found, so a user fixes them all in one round.
 */
export class TopologyError extends Error {
  public readonly problems: readonly TopologyProblem[];

  constructor(source: string, problems: readonly TopologyProblem[]) {
    const lines = problems.map((p) => `  - ${formatProblem(p)}`);
    super(`invalid topology in ${source}:\n${lines.join('\n')}`);
    this.name = 'TopologyError';
    this.problems = problems;
  }
}
