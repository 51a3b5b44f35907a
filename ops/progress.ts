/** What a stack is doing, for the progress display. */
export type StackState = 'waiting' | 'init' | 'plan' | 'planned' | 'apply' | 'destroy' | 'done' | 'no changes' | 'FAILED' | 'not run';

const FINAL: readonly StackState[] = ['planned', 'done', 'no changes', 'FAILED', 'not run'];

/**
 * One live line per stack: its state and how long it has been running. On a terminal the lines
 * are redrawn in place every second; otherwise (CI, a log) a line is printed when a state changes,
 * and every `heartbeatMs` a line says what is still running.
 */
export class Progress {
  private readonly states = new Map<string, { state: StackState; since: number; started?: number }>();
  private timer?: NodeJS.Timeout;
  private drawn = 0;
  private lastHeartbeat = Date.now();
  private readonly tty: boolean;

  constructor(stacks: readonly string[], private readonly out: NodeJS.WriteStream = process.stderr, private readonly heartbeatMs = 10_000) {
    for (const s of stacks) this.states.set(s, { state: 'waiting', since: Date.now() });
    this.tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb';
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), 1000);
    if (this.tty) this.draw();
  }

  set(stack: string, state: StackState): void {
    const entry = this.states.get(stack)!;
    const started = entry.started ?? (state !== 'waiting' && !FINAL.includes(state) ? Date.now() : undefined);
    this.states.set(stack, { state, since: Date.now(), started });
    if (this.tty) this.draw();
    else this.out.write(`${this.line(stack)}\n`);
  }

  /** Seconds since the stack started running, or undefined. */
  elapsedMs(stack: string): number | undefined {
    const e = this.states.get(stack)!;
    return e.started === undefined ? undefined : (FINAL.includes(e.state) ? e.since : Date.now()) - e.started;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.draw();
  }

  private line(stack: string): string {
    const { state } = this.states.get(stack)!;
    const ms = this.elapsedMs(stack);
    const running = !FINAL.includes(state) && state !== 'waiting';
    return `  ${stack.padEnd(10)} ${(running ? `${state}…` : state).padEnd(12)} ${ms === undefined ? '' : `${(ms / 1000).toFixed(0)} s`}`;
  }

  private tick(): void {
    if (this.tty) return this.draw();
    if (Date.now() - this.lastHeartbeat < this.heartbeatMs) return;
    this.lastHeartbeat = Date.now();
    const running = [...this.states.keys()].filter((s) => !FINAL.includes(this.states.get(s)!.state) && this.states.get(s)!.state !== 'waiting');
    if (running.length > 0) this.out.write(`  still running: ${running.map((s) => `${s} (${this.states.get(s)!.state}, ${((this.elapsedMs(s) ?? 0) / 1000).toFixed(0)} s)`).join(', ')}\n`);
  }

  private draw(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
    const lines = [...this.states.keys()].map((s) => `\x1b[2K${this.line(s)}`);
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
