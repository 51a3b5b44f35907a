import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** What the server holds for one state address. */
interface Slot {
  state?: string;
  /** The lock info JSON terraform sent with LOCK, while the state is locked. */
  lock?: string;
}

/**
 * A Terraform `http` backend state server, small enough to read: GET/POST/DELETE the state,
 * LOCK/UNLOCK it (423 Locked with the holder's lock info when someone else holds it), one slot per
 * URL path. It listens on 127.0.0.1 only and keeps everything in memory: a test fixture, not a
 * product (teams use a real one: GitLab's, Terraform Enterprise's, or any that speaks this protocol).
 */
export class HttpStateServer {
  readonly slots = new Map<string, Slot>();
  /** Every request, "METHOD path status", in order: what the tests read to see locking happen. */
  readonly log: string[] = [];
  private server?: Server;

  /** Starts listening on 127.0.0.1 at a free port; resolves with the base URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const slot = this.slots.get(path) ?? {};
      this.slots.set(path, slot);
      const reply = (status: number, text = '') => {
        this.log.push(`${req.method} ${path} ${status}`);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(text);
      };
      switch (req.method) {
        case 'GET': return slot.state === undefined ? reply(404) : reply(200, slot.state);
        case 'POST': slot.state = body; return reply(200);
        case 'DELETE': slot.state = undefined; return reply(200);
        case 'LOCK':
          if (slot.lock !== undefined) return reply(423, slot.lock);
          slot.lock = body;
          return reply(200);
        case 'UNLOCK': {
          // A forced unlock sends the lock id it wants removed; a holder sends its own lock info.
          const wanted = JSON.parse(body || '{}').ID;
          const held = JSON.parse(slot.lock ?? '{}').ID;
          if (slot.lock !== undefined && wanted !== undefined && wanted !== held) return reply(423, slot.lock);
          slot.lock = undefined;
          return reply(200);
        }
        default: return reply(405);
      }
    });
  }
}
