/**
 * A plain HTTP proxy on a free loopback port that passes every request to one upstream server
 * unchanged (method, path, headers, body; the answer likewise) and logs each request's method,
 * path, status, and the times it started (arrived) and ended (its answer was sent back). The
 * latency benchmark puts it in front of toxiproxy, so the times are those a client sees, and
 * reads from the log how many requests a command made and how many of them had to wait for each
 * other (`longestChain`).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface LoggedRequest {
  method: string;
  path: string;
  /** 0 when the upstream could not be reached or the exchange broke off. */
  status: number;
  /** Milliseconds on the proxy's clock (performance.now()). */
  start: number;
  end: number;
}

export class CountingProxy {
  private entries: LoggedRequest[] = [];
  /** Requests started and not yet ended. */
  private active = 0;

  private constructor(private readonly server: http.Server, private readonly agent: http.Agent, readonly port: number) {}

  /** `http://127.0.0.1:<port>`: where clients connect instead of the upstream. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts a proxy to `upstream` (`http://host:port`). */
  static async start(upstream: string): Promise<CountingProxy> {
    const target = new URL(upstream);
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    let proxy: CountingProxy | undefined;
    const server = http.createServer((req, res) => {
      const entry: LoggedRequest = { method: req.method ?? "", path: req.url ?? "", status: 0, start: performance.now(), end: 0 };
      let logged = false;
      proxy!.active++;
      const done = () => {
        if (logged) return;
        logged = true;
        entry.end = performance.now();
        proxy!.entries.push(entry);
        proxy!.active--;
      };
      res.once("finish", done);
      res.once("close", done);
      const out = http.request({
        host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent,
      }, (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
        answer.pipe(res);
        answer.once("error", () => res.destroy());
      });
      out.once("error", (e) => {
        if (res.headersSent) res.destroy();
        else res.writeHead(502, { "content-type": "text/plain" }).end(`counting proxy: ${upstream}: ${e.message}`);
      });
      req.pipe(out);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    proxy = new CountingProxy(server, agent, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** Resolves once no request is under way (a client's detached ones included); fails after `timeoutMs`. */
  async idle(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.active > 0) {
      if (Date.now() > until) throw new Error(`counting proxy: ${this.active} request(s) still under way after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The requests ended since the last `take` (or the start), in the order they ended; clears the log. */
  take(): LoggedRequest[] {
    const taken = this.entries;
    this.entries = [];
    return taken;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The longest sequential chain among `requests`: the most requests r1, r2, …, rk in which each
 * starts at or after the one before it ended, so none of them could have overlapped another
 * (requests a command issues together overlap and count once). A command that reads a config,
 * then lists, then reads three groups at once has a chain of 3. 0 for no requests.
 */
export function longestChain(requests: readonly { start: number; end: number }[]): number {
  const byStart = [...requests].sort((a, b) => a.start - b.start || a.end - b.end);
  const byEnd = byStart.map((r, i) => ({ end: r.end, i })).sort((a, b) => a.end - b.end);
  const chain = new Array<number>(byStart.length).fill(0);
  let best = 0; // the longest chain among the requests ended by the current start
  let ended = 0;
  for (let i = 0; i < byStart.length; i++) {
    const r = byStart[i]!;
    while (ended < byEnd.length && byEnd[ended]!.end <= r.start && byEnd[ended]!.i < i) best = Math.max(best, chain[byEnd[ended++]!.i]!);
    chain[i] = best + 1;
  }
  return Math.max(0, ...chain);
}
