/**
 * toxiproxy (built by scripts/tools.sh) between kstate and a test server: a TCP proxy on a free
 * loopback port whose faults are switched on and off through its HTTP API: latency, bandwidth
 * limits, connections reset or cut after some bytes, black holes (timeout), and the proxy itself
 * disabled (connections refused). Stopped when the tests end.
 */
import { freePort, type RunningServer, startServer } from "./servers";

/** A toxic's kind and attributes, as toxiproxy's API takes them. */
export type ToxicSpec =
  /** Adds `latency` ms (± `jitter`) to each chunk. */
  | { type: "latency"; attributes: { latency: number; jitter?: number } }
  /** Limits the stream to `rate` KB/s. */
  | { type: "bandwidth"; attributes: { rate: number } }
  /** Resets the connection (TCP RST) `timeout` ms after the first data arrives. */
  | { type: "reset_peer"; attributes: { timeout: number } }
  /** Lets nothing through; closes the connection after `timeout` ms, or never with 0. */
  | { type: "timeout"; attributes: { timeout: number } }
  /** Cuts the stream into pieces of about `average_size` bytes, `delay` µs apart. */
  | { type: "slicer"; attributes: { average_size: number; size_variation?: number; delay?: number } }
  /** Closes the connection once `bytes` bytes have gone through. */
  | { type: "limit_data"; attributes: { bytes: number } };

export interface Toxic {
  /** Unique per proxy; default `<type>_<stream>`. */
  name?: string;
  /** Which way: `upstream` is client to server (requests), `downstream` server to client (answers). */
  stream: "upstream" | "downstream";
  /** The share of connections the toxic applies to, 0 to 1 (default 1). Drawn per connection. */
  toxicity?: number;
}

export class Proxy {
  constructor(private readonly api: Toxiproxy, readonly name: string, readonly port: number, readonly upstream: string) {}

  /** `http://127.0.0.1:<port>`: where clients connect instead of the upstream server. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Adds a toxic; returns its name. */
  async addToxic(spec: ToxicSpec & Toxic): Promise<string> {
    const name = spec.name ?? `${spec.type}_${spec.stream}`;
    await this.api.request("POST", `/proxies/${this.name}/toxics`, {
      name, type: spec.type, stream: spec.stream, toxicity: spec.toxicity ?? 1, attributes: spec.attributes,
    });
    return name;
  }

  async removeToxic(name: string): Promise<void> {
    await this.api.request("DELETE", `/proxies/${this.name}/toxics/${name}`);
  }

  async toxics(): Promise<{ name: string; type: string }[]> {
    return (await this.api.request("GET", `/proxies/${this.name}/toxics`)) as { name: string; type: string }[];
  }

  /** Removes every toxic. */
  async clearToxics(): Promise<void> {
    for (const t of await this.toxics()) await this.removeToxic(t.name);
  }

  /** A disabled proxy closes its connections and refuses new ones. */
  async setEnabled(enabled: boolean): Promise<void> {
    await this.api.request("POST", `/proxies/${this.name}`, { enabled });
  }

  /** No toxics, and every connection made under one closed (the proxy is disabled and enabled again). */
  async heal(): Promise<void> {
    await this.clearToxics();
    await this.setEnabled(false);
    await this.setEnabled(true);
  }
}

export class Toxiproxy {
  private constructor(private readonly server: RunningServer) {}

  get apiUrl(): string {
    return this.server.endpoint;
  }

  /** Starts toxiproxy-server with its API on a free loopback port. */
  static async start(): Promise<Toxiproxy> {
    return new Toxiproxy(await startServer({ name: "toxiproxy", tool: "toxiproxy", args: (port) => ["-host", "127.0.0.1", "-port", String(port)], readyPath: "/version" }));
  }

  /** @internal One API call; a non-2xx answer throws with toxiproxy's message. */
  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method, signal: AbortSignal.timeout(10_000),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: HTTP ${res.status} ${text}\n${this.server.output().slice(-2000)}`);
    return text === "" ? undefined : JSON.parse(text);
  }

  /**
   * A proxy to `upstream` (`host:port`), listening on `listenPort` (default: a free one). Give
   * the port when the server must know it in advance (fake-gcs-server's `-external-url`).
   */
  async createProxy(name: string, upstream: string, listenPort?: number): Promise<Proxy> {
    const port = listenPort ?? await freePort();
    await this.request("POST", "/proxies", { name, listen: `127.0.0.1:${port}`, upstream, enabled: true });
    return new Proxy(this, name, port, upstream);
  }

  /** Every proxy enabled, every toxic removed. */
  async reset(): Promise<void> {
    await this.request("POST", "/reset");
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}
