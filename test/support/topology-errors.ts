import { loadTopology, TopologyError } from '../../lib/topology';

/** The message of the TopologyError that loading `overrides` throws (the test fails if it loads). */
export function errorFor(overrides: unknown): string {
  try {
    loadTopology({ overrides });
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as Error).message;
  }
  throw new Error('expected the topology to be rejected');
}
