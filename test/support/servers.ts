/**
 * Starts the real servers the integration tests run against: MinIO (S3) and fake-gcs-server
 * (GCS), built by scripts/tools.sh from the Go module proxy, and moto (AWS KMS), installed by it
 * into a Python virtualenv. Each gets a free loopback port and a temporary data folder, and is
 * stopped when the tests end. A server that cannot start fails the run loudly; nothing is skipped.
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
  process: ChildProcess;
  dataDir: string;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
  /** The server's recent output, for failure messages. */
  output(): string;
}

const running = new Set<RunningServer>();
process.on("exit", () => {
  for (const s of running) s.process.kill("SIGKILL");
});

/** Polls `url` until it answers 2xx; fails naming the server (and kills it) if it exits or never answers. */
export async function waitUntilReady(url: string, child: ChildProcess, name: string, log: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before it was ready:\n${log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) {
        // A server that failed to bind exits at once; what answered then is another one on the port.
        await new Promise((r) => setTimeout(r, 100));
        if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}, and something else answers ${url} (the port was taken between choosing and binding it):\n${log()}`);
        return;
      }
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  child.kill("SIGKILL");
  throw new Error(`${name} did not answer ${url} within ${timeoutMs / 1000}s (${lastError}):\n${log()}`);
}

function launch(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv, port: number, dataDir: string): RunningServer {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let buffer = "";
  const keep = (chunk: Buffer) => {
    buffer = (buffer + chunk.toString()).slice(-8000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const server: RunningServer = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    process: child,
    dataDir,
    output: () => buffer,
    stop: async () => {
      running.delete(server);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  running.add(server);
  return server;
}

export const MINIO_USER = "kstate-test";
export const MINIO_PASSWORD = "kstate-test-secret";
/** The name of the static KMS key MinIO is started with (for SSE-KMS). */
export const MINIO_KMS_KEY = "kstate-test-key";

export async function startMinio(): Promise<RunningServer> {
  const port = await freePort();
  const consolePort = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-minio-"));
  const server = launch("minio", toolPath("minio"), [
    "server", dataDir, "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, "--quiet",
  ], {
    MINIO_ROOT_USER: MINIO_USER,
    MINIO_ROOT_PASSWORD: MINIO_PASSWORD,
    MINIO_KMS_SECRET_KEY: `${MINIO_KMS_KEY}:${randomBytes(32).toString("base64")}`,
    MINIO_BROWSER: "off",
    MINIO_UPDATE: "off",
  }, port, dataDir);
  await waitUntilReady(`${server.endpoint}/minio/health/live`, server.process, "minio", server.output);
  return server;
}

export async function startFakeGcs(): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-fakegcs-"));
  const endpoint = `http://127.0.0.1:${port}`;
  const server = launch("fake-gcs-server", toolPath("fake-gcs-server"), [
    "-scheme", "http", "-host", "127.0.0.1", "-port", String(port), "-backend", "memory",
    "-external-url", endpoint, "-public-host", `127.0.0.1:${port}`, "-log-level", "error",
  ], {}, port, dataDir);
  await waitUntilReady(`${endpoint}/_internal/healthcheck`, server.process, "fake-gcs-server", server.output);
  return server;
}

/** Region and static credentials for clients of the KMS server. moto accepts any signature. */
export const KMS_REGION = "us-east-1";
export const KMS_ACCESS_KEY_ID = "testing";
export const KMS_SECRET_ACCESS_KEY = "testing";

/**
 * moto in server mode, for AWS KMS. It keeps everything in memory: keys and aliases are gone
 * when it stops, and the data folder only holds the (absent) AWS config files it is pointed at.
 */
export async function startKms(): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kms-"));
  const server = launch("moto_server", toolPath("moto"), ["-H", "127.0.0.1", "-p", String(port)], {
    // moto builds its own URLs from MOTO_PORT, and keeps a stray one over the port given by -p.
    MOTO_PORT: String(port),
    // moto opens a boto3 session on its first request, which reads the AWS config: a profile named
    // in the environment but missing from it fails every request with HTTP 500. (spawn drops
    // variables set to undefined.)
    AWS_PROFILE: undefined,
    AWS_DEFAULT_PROFILE: undefined,
    AWS_CONFIG_FILE: path.join(dataDir, "aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dataDir, "aws-credentials"),
  }, port, dataDir);
  await waitUntilReady(`${server.endpoint}/moto-api/`, server.process, "moto_server", server.output);
  return server;
}
