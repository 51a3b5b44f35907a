/** Runs `task` on every item, at most `limit` at a time, in order; resolves once all have ended. */
export async function eachAtMost<T>(limit: number, items: readonly T[], task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
