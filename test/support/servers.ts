/**
 * Starts the real servers the integration tests run against: MinIO (S3) and fake-gcs-server
 * (GCS), built by scripts/tools.sh from the Go module proxy, moto (AWS KMS), installed by it
 * into a Python virtualenv, and toxiproxy. Each gets a free loopback port and a temporary data
 * folder, and is stopped when the tests end. A server that cannot start fails the run loudly;
 * nothing is skipped.
 *
 * A server is ready when its health URL answers AND the socket listening on its port is its own:
 * several test runs share a machine, and a port chosen free can be taken by another run's server
 * before ours binds it. Ours then exits ("port in use"), but only after the other one has
 * answered the health check, and every request would go to the other server (a MinIO with the
 * same credentials serves it all, so a test that stops "its" server still gets answers). A taken
 * port is given up and the server started again on another one.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..", "..");

export function toolPath(name: string): string {
  const p = execFileSync(path.join(REPO, "scripts", "tools.sh"), ["path", name], { encoding: "utf8" }).trim();
  if (!fs.existsSync(p)) {
    throw new Error(`${name} is not built (${p} is missing). Run \`scripts/tools.sh all\`; \`npm test\` does this before testing.`);
  }
  return p;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  endpoint: string;
  port: number;
  /** The server's process (a new one after `restart`). */
  readonly process: ChildProcess;
  dataDir: string;
  /** Kills the server (SIGKILL: nothing in flight finishes) and waits for it to exit; keeps its data. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data, after `kill`. */
  restart(): Promise<void>;
  /**
   * Stops the server's process (SIGSTOP: alive, its port accepting connections, nothing answered)
   * and waits until every one of its threads has stopped: the signal only asks, and a thread
   * already running can answer one more request before it obeys.
   */
  freeze(): Promise<void>;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
  /** Kills the server, waits for it to exit, and removes its data. */
  stop(): Promise<void>;
  /** The server's recent output, for failure messages. */
  output(): string;
}

/** How to run one kind of server. */
export interface ServerSpec {
  name: string;
  /** The tool's name for scripts/tools.sh. */
  tool: string;
  args(port: number, dataDir: string): string[] | Promise<string[]>;
  /** Variables beside the test process's own; one set to undefined is dropped. */
  env?(port: number, dataDir: string): NodeJS.ProcessEnv;
  /** A path that answers 2xx once the server serves. */
  readyPath: string;
}

/** Our port was taken by another process between choosing and binding it. */
class PortTakenError extends Error {}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts `spec` on a free port (or on `options.port`, which must then be free) in a new data
 * folder (or `options.dataDir`). A free port taken by someone else before the server binds it is
 * given up for another, up to three times; a given port that is taken fails at once.
 */
export async function startServer(spec: ServerSpec, options: { port?: number; dataDir?: string } = {}): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? await freePort();
    const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `kstate-${spec.tool}-`));
    const server = serverOn(spec, port, dataDir);
    try {
      await server.restart();
      return server;
    } catch (e) {
      await server.stop();
      if (!(e instanceof PortTakenError) || options.port !== undefined || attempt === 3) throw e;
    }
  }
}

function serverOn(spec: ServerSpec, port: number, dataDir: string): RunningServer {
  let child: ChildProcess | undefined;
  let buffer = "";
  const endpoint = `http://127.0.0.1:${port}`;
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  };
  return {
    endpoint,
    port,
    dataDir,
    get process() {
      if (!child) throw new Error(`${spec.name} was never started`);
      return child;
    },
    output: () => buffer,
    kill,
    freeze: async () => {
      const pid = child!.pid!;
      child!.kill("SIGSTOP");
      await untilStopped(pid, spec.name);
    },
    thaw: () => {
      child!.kill("SIGCONT");
    },
    restart: async () => {
      const started = spawn(toolPath(spec.tool), await spec.args(port, dataDir), { env: { ...process.env, ...spec.env?.(port, dataDir) }, stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      running.add(started);
      started.once("exit", () => running.delete(started));
      const keep = (chunk: Buffer) => {
        buffer = (buffer + chunk.toString()).slice(-8000);
      };
      started.stdout!.on("data", keep);
      started.stderr!.on("data", keep);
      await waitUntilReady(`${endpoint}${spec.readyPath}`, started, spec.name, () => buffer);
    },
    stop: async () => {
      await kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until every thread of `pid` is stopped, as /proc shows it (state T); elsewhere a pause. */
async function untilStopped(pid: number, name: string): Promise<void> {
  if (!fs.existsSync(`/proc/${pid}/task`)) {
    await new Promise((r) => setTimeout(r, 500));
    return;
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const states = readdirOrEmpty(`/proc/${pid}/task`).map((task) => {
      try {
        // pid (comm) STATE ...: comm may hold spaces and parentheses; the state follows the last ")".
        const stat = fs.readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      } catch {
        return "T"; // the thread ended meanwhile
      }
    });
    if (states.every((s) => s === "T" || s === "t")) return;
    if (Date.now() > deadline) throw new Error(`${name} (pid ${pid}) did not stop within 10 s after SIGSTOP (thread states ${states.join("")})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Polls `url` until it answers 2xx and the socket listening on its port belongs to `child`;
 * fails naming the server (and kills it) if it exits, never answers, or the port is another's.
 */
export async function waitUntilReady(url: string, child: ChildProcess, name: string, log: () => string, timeoutMs = 60_000): Promise<void> {
  const port = Number(new URL(url).port);
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before it was ready:\n${log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) {
        const owner = listenerOwnedBy(port, child.pid!);
        if (owner === "ours") return;
        if (owner === "another") {
          child.kill("SIGKILL");
          throw new PortTakenError(`${name}: another process listens on port ${port} (taken between choosing and binding it) and answers ${url}:\n${log()}`);
        }
        lastError = `port ${port} answers, but ${name} (pid ${child.pid}) does not listen on it yet`;
      } else {
        lastError = `HTTP ${res.status}`;
      }
    } catch (e) {
      if (e instanceof PortTakenError) throw e;
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  child.kill("SIGKILL");
  throw new Error(`${name} did not answer ${url} within ${timeoutMs / 1000}s (${lastError}):\n${log()}`);
}

/** Local addresses a connection to 127.0.0.1 can reach, as /proc/net/tcp{,6} spell them. */
const REACHES_LOOPBACK = new Set(["0100007F", "00000000", "00000000000000000000000000000000", "0000000000000000FFFF00000100007F"]);

/**
 * Whether the sockets a connection to 127.0.0.1:`port` can reach are all `pid`'s (or its
 * children's): "ours", "another" process's, or "none" listening yet. From Linux's /proc; elsewhere from lsof.
 */
export function listenerOwnedBy(port: number, pid: number): "ours" | "another" | "none" {
  if (!fs.existsSync("/proc/net/tcp")) return listenerByLsof(port, pid);
  const listening = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      // sl local_address rem_address st ... inode: ADDR:PORT in hex, state 0A is LISTEN, the inode tenth.
      const f = line.trim().split(/\s+/);
      const [address, localPort] = (f[1] ?? "").split(":");
      if (localPort === hexPort && f[3] === "0A" && REACHES_LOOPBACK.has(address!)) listening.add(f[9]!);
    }
  }
  if (listening.size === 0) return "none";
  // Every listener must be ours: servers that set SO_REUSEPORT (MinIO does) can share a port with
  // another process's, and the kernel then hands each connection to either.
  const ours = new Set([...processTree(pid)].flatMap((p) => socketsOf(p)));
  return [...listening].every((inode) => ours.has(inode)) ? "ours" : "another";
}

function listenerByLsof(port: number, pid: number): "ours" | "another" | "none" {
  let out: string;
  try {
    out = execFileSync("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fp"], { encoding: "utf8" });
  } catch (e) {
    if ((e as { status?: number }).status === 1) return "none"; // lsof found nothing
    throw new Error(`the test servers need /proc or lsof to tell their own listening sockets from another process's: ${(e as Error).message}`);
  }
  const pids = out.split("\n").filter((l) => l.startsWith("p")).map((l) => Number(l.slice(1)));
  if (pids.length === 0) return "none";
  return pids.includes(pid) ? "ours" : "another";
}

function processTree(pid: number): Set<number> {
  const all = new Set([pid]);
  for (const p of all) {
    for (const task of readdirOrEmpty(`/proc/${p}/task`)) {
      const children = fs.readFileSync(`/proc/${p}/task/${task}/children`, { encoding: "utf8", flag: "r" }).trim();
      for (const c of children ? children.split(/\s+/) : []) all.add(Number(c));
    }
  }
  return all;
}

function socketsOf(pid: number): string[] {
  const inodes: string[] = [];
  for (const fd of readdirOrEmpty(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.push(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export const MINIO_USER = "kstate-test";
export const MINIO_PASSWORD = "kstate-test-secret";
/** The name of the static KMS key MinIO is started with (for SSE-KMS). */
export const MINIO_KMS_KEY = "kstate-test-key";

/** MinIO; with `region`, the one region it takes requests signed for (MINIO_SITE_REGION), as an AWS bucket's. */
export function minioSpec(options: { region?: string } = {}): ServerSpec {
  // One key per server, kept over restarts: SSE-KMS objects stay readable after one.
  const kmsSecret = `${MINIO_KMS_KEY}:${randomBytes(32).toString("base64")}`;
  let consolePort: number | undefined;
  return {
    name: "minio",
    tool: "minio",
    args: async (port, dataDir) => {
      // The console is off, but MinIO wants an address for it; the same one over restarts.
      consolePort ??= await freePort();
      return ["server", dataDir, "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, "--quiet"];
    },
    env: () => ({
      MINIO_ROOT_USER: MINIO_USER, MINIO_ROOT_PASSWORD: MINIO_PASSWORD, MINIO_KMS_SECRET_KEY: kmsSecret, MINIO_BROWSER: "off", MINIO_UPDATE: "off",
      ...(options.region ? { MINIO_SITE_REGION: options.region } : {}),
    }),
    readyPath: "/minio/health/live",
  };
}

export function startMinio(options: { port?: number; region?: string } = {}): Promise<RunningServer> {
  return startServer(minioSpec(options), options);
}

/**
 * fake-gcs-server, in memory. `publicPort` is where clients reach it when that is not its own
 * port (a proxy in front): the resumable-upload session URLs it hands out lead there.
 */
export function startFakeGcs(options: { publicPort?: number } = {}): Promise<RunningServer> {
  return startServer({
    name: "fake-gcs-server",
    tool: "fake-gcs-server",
    args: (port) => {
      const publicHost = `127.0.0.1:${options.publicPort ?? port}`;
      return ["-scheme", "http", "-host", "127.0.0.1", "-port", String(port), "-backend", "memory", "-external-url", `http://${publicHost}`, "-public-host", publicHost, "-log-level", "error"];
    },
    readyPath: "/_internal/healthcheck",
  });
}

/** Region and static credentials for clients of the KMS server. moto accepts any signature. */
export const KMS_REGION = "us-east-1";
export const KMS_ACCESS_KEY_ID = "testing";
export const KMS_SECRET_ACCESS_KEY = "testing";

/**
 * moto in server mode, for AWS KMS. It keeps everything in memory: keys and aliases are gone
 * when it stops, and the data folder only holds the (absent) AWS config files it is pointed at.
 */
export function startKms(): Promise<RunningServer> {
  return startServer(motoSpec("moto_server"));
}

/** moto_server, every AWS service it emulates on one port, named `name` in failure messages. */
export function motoSpec(name: string): ServerSpec {
  return {
    name,
    tool: "moto",
    args: (port) => ["-H", "127.0.0.1", "-p", String(port)],
    env: (port, dataDir) => ({
      // moto builds its own URLs from MOTO_PORT, and keeps a stray one over the port given by -p.
      MOTO_PORT: String(port),
      // moto opens a boto3 session on its first request, which reads the AWS config: a profile named
      // in the environment but missing from it fails every request with HTTP 500.
      AWS_PROFILE: undefined,
      AWS_DEFAULT_PROFILE: undefined,
      AWS_CONFIG_FILE: path.join(dataDir, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dataDir, "aws-credentials"),
    }),
    readyPath: "/moto-api/",
  };
}
