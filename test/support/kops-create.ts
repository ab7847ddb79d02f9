/**
 * `kops create cluster NAME <flags> --dry-run -o yaml` (the real kops v1.36.2, offline) against
 * `kstate create cluster NAME <flags> --dry-run -o yaml`, for the expansion matrix
 * (test/interop/expansion-matrix.test.ts).
 *
 * kops expands its flags offline on every cloud it supports, given loopback stand-ins for the few
 * read-only calls it makes while doing so (nothing here reaches a network):
 *
 * - aws: the EC2 catalogue (regions, zones, instance types, images, and the reserved-instance
 *   offerings kops reads per zone to pick a default machine type: t3.medium, t3.micro for
 *   bastions), through AWS_ENDPOINT_URL_EC2, with made-up credentials (`startEc2Catalogue` of
 *   ./kops, shared with the other interop tests).
 * - gce: `--project` is required. kops builds its Google clients with no endpoint option, from
 *   GOOGLE_APPLICATION_CREDENTIALS (a made-up service account, a fresh key), then asks for an
 *   OAuth token and `GET compute/v1/projects/P/global/networks/<cluster>` (a 404 means a new
 *   network, so kops assigns the subnet CIDR itself). Those go to https hosts, so they reach the
 *   HTTPS stand-in below through HTTPS_PROXY, trusted through SSL_CERT_FILE.
 * - azure: kops takes the Azure flags only with KOPS_FEATURE_FLAGS=Azure, and insists on an
 *   azureblob://ACCOUNT/CONTAINER state store (PerformAssignments derives the storage account's ID
 *   from it). It reads `<cluster>/config` there (a 404 BlobNotFound: no such cluster) and lists the
 *   subscription's storage accounts, after an Entra ID token (client secret from the environment):
 *   all https, all answered by the HTTPS stand-in.
 * - openstack: `--network-cidr` is required (kops assigns no default network CIDR there). kops
 *   authenticates to Keystone (OS_AUTH_URL: a plain-http loopback stand-in here), discovers the
 *   volume, network, compute, image and dns services in the catalogue it returns, and lists compute
 *   flavors (for the default machine types).
 * - digitalocean, hetzner, scaleway: only a token in the environment; no call is made.
 *
 * Everywhere: KOPS_FEATURE_FLAGS=-ImageDigest, or kops looks up each control-plane image digest
 * at registry.k8s.io (a DNS failure here, after a 5 s resolver timeout on some clouds). The
 * digests are not part of the dry-run documents, so this changes nothing compared.
 */
import { execFile, execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { parseAllDocuments } from "yaml";
import { kstate } from "./cli";
import { CHANNEL, startEc2Catalogue } from "./kops";
import { toolPath } from "./servers";

export type Doc = Record<string, any>;
export type Cloud = "aws" | "gce" | "azure" | "digitalocean" | "hetzner" | "openstack" | "scaleway";
export const CLOUDS: readonly Cloud[] = ["aws", "gce", "azure", "digitalocean", "hetzner", "openstack", "scaleway"];
export { CHANNEL };

export const KUBERNETES_VERSION = "v1.30.2";

/** What each cloud's flag sets share: an image (so kops looks none up), sizes for merge bases, a GPU-ish machine type. */
export const PROFILES: Record<Cloud, { image: string; nodeSize: string; controlPlaneSize: string; gpuMachineType: string }> = {
  aws: { image: "ubuntu/test-image", nodeSize: "m5.large", controlPlaneSize: "m5.xlarge", gpuMachineType: "p3.2xlarge" },
  gce: { image: "ubuntu-os-cloud/ubuntu-2404-noble-amd64-v20250101", nodeSize: "n2-standard-2", controlPlaneSize: "n2-standard-4", gpuMachineType: "a2-highgpu-1g" },
  azure: { image: "Canonical:ubuntu-24_04-lts:server:latest", nodeSize: "Standard_D2s_v3", controlPlaneSize: "Standard_D4s_v3", gpuMachineType: "Standard_NC6s_v3" },
  digitalocean: { image: "ubuntu-24-04-x64", nodeSize: "s-2vcpu-4gb", controlPlaneSize: "s-4vcpu-8gb", gpuMachineType: "gpu-h100x1-80gb" },
  hetzner: { image: "ubuntu-24.04", nodeSize: "cx22", controlPlaneSize: "cx32", gpuMachineType: "ccx63" },
  openstack: { image: "ubuntu-24.04", nodeSize: "m1.medium", controlPlaneSize: "m1.large", gpuMachineType: "g1.xlarge" },
  scaleway: { image: "ubuntu_noble", nodeSize: "DEV1-M", controlPlaneSize: "PRO2-S", gpuMachineType: "GPU-3070-S" },
};

/** Fields whose values depend on the run, not on the flags; each is handled explicitly in `normalise`. */
export const NORMALISED_FIELDS = [
  "metadata.creationTimestamp (every document): kstate stamps the time of the run; kops's dry-run prints none (its store stamps it on write)",
  "spec.configBase (Cluster): each tool's own fresh state store; the store's part is replaced by <state>, the cluster name after it is compared",
  "spec.cloudConfig.azure.storageAccountID (Cluster, azure, kops side only): the ID kops looked up in Azure for the azureblob:// store's account (answered by the stand-in); a file:// store has none. kstate's value, if any, is still compared",
] as const;

// ---------------------------------------------------------------------------------------------
// Loopback stand-ins

export interface StandInRequest {
  host: string;
  method: string;
  url: string;
  status: number;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({ status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

const AZURE_TENANT = "00000000-0000-0000-0000-00000000a001";
const AZURE_CLIENT = "00000000-0000-0000-0000-00000000a002";
export const AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-00000000a003";
const AZURE_ACCOUNT = "kstateoffline";

/** The https hosts kops calls for GCE and Azure while expanding flags. */
function httpsReply(host: string, method: string, url: string): Reply {
  const h = host.replace(/:\d+$/, "");
  if (h === "oauth2.googleapis.com" && url.startsWith("/token")) return json(200, { access_token: "offline", token_type: "Bearer", expires_in: 3600 });
  if (h === "compute.googleapis.com") {
    // A network that does not exist yet: kops creates it, and assigns the subnets' CIDRs itself.
    return json(404, { error: { code: 404, message: "not found (kstate's offline stand-in)", errors: [{ reason: "notFound", message: "not found" }] } });
  }
  if (h === "login.microsoftonline.com") {
    const t = `https://login.microsoftonline.com/${AZURE_TENANT}`;
    if (url.includes("/discovery/instance")) {
      return json(200, { tenant_discovery_endpoint: `${t}/v2.0/.well-known/openid-configuration`, "api-version": "1.1", metadata: [{ preferred_network: "login.microsoftonline.com", preferred_cache: "login.windows.net", aliases: ["login.microsoftonline.com"] }] });
    }
    if (url.includes("openid-configuration")) {
      return json(200, {
        token_endpoint: `${t}/oauth2/v2.0/token`, authorization_endpoint: `${t}/oauth2/v2.0/authorize`, issuer: `${t}/v2.0`, end_session_endpoint: `${t}/oauth2/v2.0/logout`,
        jwks_uri: `${t}/discovery/v2.0/keys`, response_types_supported: ["code"], scopes_supported: ["openid"], subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"], tenant_region_scope: "NA", cloud_instance_name: "microsoftonline.com",
      });
    }
    if (url.includes("/oauth2/v2.0/token")) return json(200, { access_token: "offline", token_type: "Bearer", expires_in: 3600, ext_expires_in: 3600 });
  }
  if (h === `${AZURE_ACCOUNT}.blob.core.windows.net` && method === "GET") {
    return { status: 404, headers: { "x-ms-error-code": "BlobNotFound", "content-type": "application/xml" }, body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>no such blob</Message></Error>' };
  }
  if (h === "management.azure.com" && url.includes("/providers/Microsoft.Storage/storageAccounts")) {
    return json(200, { value: [{ id: `/subscriptions/${AZURE_SUBSCRIPTION}/resourceGroups/kstate-offline/providers/Microsoft.Storage/storageAccounts/${AZURE_ACCOUNT}`, name: AZURE_ACCOUNT, type: "Microsoft.Storage/storageAccounts", location: "eastus" }] });
  }
  return json(404, { error: { code: "NotFound", message: `${method} https://${h}${url} is not part of kstate's offline stand-in` } });
}

/**
 * An HTTPS_PROXY on loopback that answers CONNECT itself: it terminates TLS with a certificate made
 * for the run (trusted by kops through SSL_CERT_FILE) and answers from `httpsReply`. Nothing is
 * forwarded anywhere.
 */
async function startHttpsStandIn(dir: string, log: StandInRequest[]): Promise<{ proxy: string; caFile: string; close(): Promise<void> }> {
  const keyFile = path.join(dir, "standin-key.pem");
  const certFile = path.join(dir, "standin-cert.pem");
  const sans = ["*.googleapis.com", "oauth2.googleapis.com", "compute.googleapis.com", "login.microsoftonline.com", "management.azure.com", `*.blob.core.windows.net`];
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=kstate offline stand-in",
    "-addext", `subjectAltName=${sans.map((s) => `DNS:${s}`).join(",")}`], { stdio: "ignore" });
  const key = fs.readFileSync(keyFile);
  const cert = fs.readFileSync(certFile);
  const inner = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const host = req.headers.host ?? "";
      const r = httpsReply(host, req.method ?? "GET", req.url ?? "/");
      log.push({ host, method: req.method ?? "", url: req.url ?? "", status: r.status });
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
  });
  const proxy = http.createServer((req, res) => {
    res.writeHead(405);
    res.end("the stand-in answers CONNECT only");
  });
  proxy.on("connect", (_req: http.IncomingMessage, socket: import("node:net").Socket) => {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
    secure.on("error", () => secure.destroy());
    inner.emit("connection", secure);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const { port } = proxy.address() as { port: number };
  return {
    proxy: `http://127.0.0.1:${port}`,
    caFile: certFile,
    close: () => new Promise((r) => { proxy.closeAllConnections(); inner.closeAllConnections(); proxy.close(() => r()); }),
  };
}

/** Keystone with a catalogue pointing back at itself, service version documents, and compute flavors. */
async function startOpenstackStandIn(log: StandInRequest[]): Promise<{ authUrl: string; close(): Promise<void> }> {
  const versions: Record<string, [string, string, string]> = {
    volumev3: ["v3.0", "3.0", "3.70"], compute: ["v2.1", "2.1", "2.95"], network: ["v2.0", "", ""], image: ["v2.16", "", ""], dns: ["v2", "", ""], "load-balancer": ["v2.0", "", ""],
  };
  let base = "";
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const url = req.url ?? "/";
      let r: Reply = json(404, { itemNotFound: { code: 404, message: `${req.method} ${url} is not part of kstate's offline stand-in` } });
      const service = /^\/([a-z0-9-]+)\/$/.exec(url)?.[1];
      if (req.method === "POST" && url === "/v3/auth/tokens") {
        r = json(201, {
          token: {
            expires_at: "2099-01-01T00:00:00.000000Z", issued_at: "2020-01-01T00:00:00.000000Z", methods: ["password"],
            user: { id: "offline", name: "offline", domain: { id: "default", name: "Default" } },
            project: { id: "offline", name: "offline", domain: { id: "default", name: "Default" } },
            catalog: Object.keys(versions).map((type, i) => ({ type, id: `s${i}`, name: type, endpoints: [{ id: `e${i}`, interface: "public", region: "RegionOne", region_id: "RegionOne", url: `${base}/${type}/` }] })),
          },
        }, { "X-Subject-Token": "offline" });
      } else if (req.method === "GET" && service && versions[service]) {
        const [id, min, max] = versions[service]!;
        r = json(200, { versions: [{ id, status: "CURRENT", min_version: min, version: max, links: [{ rel: "self", href: `${base}/${service}/${id}/` }] }] });
      } else if (req.method === "GET" && url.startsWith("/network/v2.0/networks")) {
        // One external network, `ext` (the --os-ext-net of the flag sets), for the API load balancer's floating IPs.
        const name = new URL(url, "http://x").searchParams.get("name");
        const all = [{ id: "00000000-0000-0000-0000-0000000e0001", name: "ext", "router:external": true, status: "ACTIVE", admin_state_up: true, subnets: [], tenant_id: "offline", project_id: "offline" }];
        r = json(200, { networks: all.filter((n) => !name || n.name === name) });
      } else if (req.method === "GET" && url.startsWith("/compute/flavors/detail")) {
        const flavors: [string, string, number, number][] = [["1", "m1.small", 2048, 1], ["2", "m1.medium", 4096, 2], ["3", "m1.large", 8192, 4], ["4", "m1.xlarge", 16384, 8]];
        r = json(200, { flavors: flavors.map(([id, name, ram, vcpus]) => ({ id, name, ram, vcpus, disk: 40, swap: 0, rxtx_factor: 1, "OS-FLV-EXT-DATA:ephemeral": 0, "os-flavor-access:is_public": true, links: [] })) });
      }
      log.push({ host: "keystone", method: req.method ?? "", url, status: r.status });
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { authUrl: `${base}/v3`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

export interface StandIns {
  /** kops's environment for a cloud: nothing of this process's environment but PATH. */
  env(cloud: Cloud): Record<string, string>;
  /** A fresh state store URL for kops on a cloud (azure needs azureblob://, answered by the stand-in). */
  kopsState(cloud: Cloud): string;
  /** Every request the stand-ins answered, for failure messages. */
  requests: StandInRequest[];
  close(): Promise<void>;
}

export async function startStandIns(): Promise<StandIns> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-matrix-standins-"));
  const home = path.join(dir, "home"); // no ~/.ssh/id_rsa.pub: kops adds no SSHCredential document
  fs.mkdirSync(home);
  const requests: StandInRequest[] = [];
  const ec2 = await startEc2Catalogue((action, status) => requests.push({ host: "ec2", method: "POST", url: action, status }));
  const https = await startHttpsStandIn(dir, requests);
  const openstack = await startOpenstackStandIn(requests);
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
  const serviceAccount = path.join(dir, "gce-service-account.json");
  fs.writeFileSync(serviceAccount, JSON.stringify({
    type: "service_account", project_id: "kstate-offline", private_key_id: "offline", private_key: privateKey,
    client_email: "kops@kstate-offline.iam.gserviceaccount.com", client_id: "1", token_uri: "https://oauth2.googleapis.com/token",
  }));
  const common = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, KOPS_RUN_TOO_NEW_VERSION: "1", KOPS_FEATURE_FLAGS: "-ImageDigest" };
  const viaProxy = { HTTPS_PROXY: https.proxy, https_proxy: https.proxy, NO_PROXY: "", no_proxy: "", SSL_CERT_FILE: https.caFile };
  const envs: Record<Cloud, Record<string, string>> = {
    aws: { ...common, AWS_ENDPOINT_URL_EC2: ec2.endpoint, AWS_ACCESS_KEY_ID: "offline", AWS_SECRET_ACCESS_KEY: "offline", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" },
    gce: { ...common, ...viaProxy, GOOGLE_APPLICATION_CREDENTIALS: serviceAccount },
    azure: {
      ...common, ...viaProxy, KOPS_FEATURE_FLAGS: "-ImageDigest,Azure",
      AZURE_TENANT_ID: AZURE_TENANT, AZURE_CLIENT_ID: AZURE_CLIENT, AZURE_CLIENT_SECRET: "offline", AZURE_SUBSCRIPTION_ID: AZURE_SUBSCRIPTION,
    },
    digitalocean: { ...common, DIGITALOCEAN_ACCESS_TOKEN: "unused-offline" },
    hetzner: { ...common, HCLOUD_TOKEN: "unused-offline" },
    openstack: {
      ...common, OS_AUTH_URL: openstack.authUrl, OS_REGION_NAME: "RegionOne", OS_USERNAME: "offline", OS_PASSWORD: "offline",
      OS_PROJECT_ID: "offline", OS_PROJECT_NAME: "offline", OS_USER_DOMAIN_NAME: "Default", OS_PROJECT_DOMAIN_NAME: "Default", OS_DOMAIN_NAME: "Default",
    },
    scaleway: { ...common, SCW_ACCESS_KEY: "SCWOFFLINE0000000000", SCW_SECRET_KEY: "00000000-0000-0000-0000-000000000000", SCW_DEFAULT_PROJECT_ID: "00000000-0000-0000-0000-000000000000" },
  };
  let n = 0;
  return {
    env: (cloud) => ({ ...envs[cloud] }),
    kopsState: (cloud) => {
      if (cloud === "azure") return `azureblob://${AZURE_ACCOUNT}/state${++n}`;
      return `file://${fs.mkdtempSync(path.join(dir, "kops-state-"))}`;
    },
    requests,
    close: async () => {
      await Promise.all([ec2.close(), https.close(), openstack.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running the two tools

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runKops(args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(toolPath("kops"), args, { env, maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** kops's log lines without the noise every run prints, for failure messages. */
export function kopsErrors(stderr: string): string {
  return stderr.split("\n").filter((l) => l.trim() && !/featureflag\.go|factory\.go:\d+\] The local filesystem|new_cluster\.go:\d+\] Cloud Provider ID|^\s*$/.test(l)).slice(-15).join("\n");
}

/**
 * The kstate CLI, in-process (`run` from src/cli, as bin/kstate.js calls it), or as a child process
 * of the bundled CLI when KSTATE_MATRIX_CLI=bin.
 */
export async function runKstate(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  if (process.env.KSTATE_MATRIX_CLI === "bin") {
    const bin = path.resolve(__dirname, "..", "..", "..", "bin", "kstate.js");
    return new Promise((resolve) => {
      execFile(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env }, maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }
  return kstate(args, { env });
}

/**
 * The YAML documents of a `--dry-run -o yaml` output. Both tools print only the documents on
 * stdout (plans and notes go to stderr), so the whole of stdout must parse.
 */
export function dryRunDocuments(stdout: string): Doc[] {
  const docs = parseAllDocuments(stdout);
  if (!Array.isArray(docs)) throw new Error("the output is not a YAML stream");
  const out = docs.map((d, i) => {
    if (d.errors.length) throw new Error(`document ${i + 1}: ${d.errors[0]!.message}\n${stdout.slice(0, 2000)}`);
    return d.toJS() as Doc;
  }).filter((d) => d !== null && d !== undefined);
  if (out.length === 0 || out.some((d) => typeof d !== "object" || typeof d.kind !== "string")) throw new Error(`stdout holds something other than documents:\n${stdout.slice(0, 2000)}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparing

export interface Documents {
  cluster: Doc | undefined;
  groups: Record<string, Doc>;
  /** Documents of other kinds (SSHCredential, addons), by kind/name. */
  others: string[];
}

export function splitDocuments(docs: Doc[]): Documents {
  const out: Documents = { cluster: undefined, groups: {}, others: [] };
  for (const d of docs) {
    if (d.kind === "Cluster") out.cluster = d;
    else if (d.kind === "InstanceGroup") out.groups[String(d.metadata?.name)] = d;
    else out.others.push(`${d.kind}/${d.metadata?.name}`);
  }
  return out;
}

function deepClone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * The documents with the run-dependent fields of NORMALISED_FIELDS handled; `statePath` is how the
 * tool's own state store appears in spec.configBase.
 */
export function normalise(docs: Documents, statePath: string, side: "kops" | "kstate"): Documents {
  const out = deepClone(docs);
  const all = [out.cluster, ...Object.values(out.groups)].filter((d): d is Doc => !!d);
  for (const d of all) {
    if (d.metadata && "creationTimestamp" in d.metadata) delete d.metadata.creationTimestamp;
  }
  const spec = out.cluster?.spec;
  if (spec && typeof spec.configBase === "string") {
    const base = statePath.replace(/\/$/, "");
    if (spec.configBase.startsWith(`${base}/`)) spec.configBase = `<state>/${spec.configBase.slice(base.length + 1)}`;
  }
  if (side === "kops" && spec?.cloudConfig?.azure && "storageAccountID" in spec.cloudConfig.azure) delete spec.cloudConfig.azure.storageAccountID;
  return out;
}

export interface Difference {
  /** `Cluster`, `InstanceGroup/<name>` or `documents`. */
  doc: string;
  /** Field path; named list items as `[name]`. */
  path: string;
  kops: unknown;
  kstate: unknown;
}

const ABSENT = Symbol("absent");

function isNamedList(v: unknown): v is Doc[] {
  return Array.isArray(v) && v.length > 0 && v.every((i) => typeof i === "object" && i !== null && !Array.isArray(i) && typeof (i as Doc).name === "string");
}

/** Field-by-field differences; lists of named items are matched by name (and their order compared). */
export function diffValues(a: unknown, b: unknown, at: string, out: { path: string; kops: unknown; kstate: unknown }[]): void {
  if (a === ABSENT && b === ABSENT) return;
  const isMap = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  // A map on one side and nothing on the other is reported field by field (an empty one as itself).
  const full = (v: unknown) => isMap(v) && Object.keys(v as Doc).length > 0;
  if ((isMap(a) && isMap(b)) || (full(a) && b === ABSENT) || (a === ABSENT && full(b))) {
    const ka = isMap(a) ? (a as Doc) : {};
    const kb = isMap(b) ? (b as Doc) : {};
    const keys = [...new Set([...Object.keys(ka), ...Object.keys(kb)])].sort();
    for (const k of keys) {
      diffValues(k in ka ? ka[k] : ABSENT, k in kb ? kb[k] : ABSENT, at ? `${at}.${k}` : k, out);
    }
    return;
  }
  if ((isNamedList(a) || isNamedList(b)) && (isNamedList(a) || a === ABSENT || (Array.isArray(a) && a.length === 0)) && (isNamedList(b) || b === ABSENT || (Array.isArray(b) && b.length === 0))) {
    const la = Array.isArray(a) ? (a as Doc[]) : [];
    const lb = Array.isArray(b) ? (b as Doc[]) : [];
    const names = [...new Set([...la.map((i) => i.name as string), ...lb.map((i) => i.name as string)])];
    for (const n of names) {
      const x = la.find((i) => i.name === n);
      const y = lb.find((i) => i.name === n);
      diffValues(x ?? ABSENT, y ?? ABSENT, `${at}[${n}]`, out);
    }
    const common = names.filter((n) => la.some((i) => i.name === n) && lb.some((i) => i.name === n));
    const orderA = la.map((i) => i.name).filter((n) => common.includes(n as string));
    const orderB = lb.map((i) => i.name).filter((n) => common.includes(n as string));
    if (JSON.stringify(orderA) !== JSON.stringify(orderB)) out.push({ path: `${at} (order)`, kops: la.map((i) => i.name), kstate: lb.map((i) => i.name) });
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path: at, kops: a === ABSENT ? undefined : a, kstate: b === ABSENT ? undefined : b });
}

/** Every difference between kops's documents and kstate's (both normalised). */
export function compareDocuments(kops: Documents, ours: Documents): Difference[] {
  const diffs: Difference[] = [];
  const push = (doc: string) => (d: { path: string; kops: unknown; kstate: unknown }) => diffs.push({ doc, ...d });
  const inner: { path: string; kops: unknown; kstate: unknown }[] = [];
  diffValues(kops.cluster ?? ABSENT, ours.cluster ?? ABSENT, "", inner);
  inner.forEach(push("Cluster"));
  const names = [...new Set([...Object.keys(kops.groups), ...Object.keys(ours.groups)])].sort();
  for (const n of names) {
    const g: { path: string; kops: unknown; kstate: unknown }[] = [];
    if (!kops.groups[n] || !ours.groups[n]) {
      g.push({ path: "(document)", kops: kops.groups[n] ? "present" : undefined, kstate: ours.groups[n] ? "present" : undefined });
    } else diffValues(kops.groups[n], ours.groups[n], "", g);
    g.forEach(push(`InstanceGroup/${n}`));
  }
  if (JSON.stringify([...kops.others].sort()) !== JSON.stringify([...ours.others].sort())) {
    diffs.push({ doc: "documents", path: "(other kinds)", kops: kops.others, kstate: ours.others });
  }
  return diffs;
}

function show(v: unknown): string {
  return v === undefined ? "(absent)" : JSON.stringify(v);
}

export function formatDifferences(diffs: Difference[]): string {
  return diffs.map((d) => `  ${d.doc} ${d.path}: kops ${show(d.kops)} vs kstate ${show(d.kstate)}`).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Store snapshots (merge half)

export type Snapshot = Map<string, Buffer>;

/** Every file under a directory, by relative path. */
export function snapshot(dir: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

export function sameSnapshot(a: Snapshot, b: Snapshot): string[] {
  const problems: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k);
    const y = b.get(k);
    if (!x) problems.push(`${k}: created`);
    else if (!y) problems.push(`${k}: deleted`);
    else if (!x.equals(y)) problems.push(`${k}: changed`);
  }
  return problems.sort();
}
