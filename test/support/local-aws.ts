/**
 * A local AWS for the real kops (v1.36.2) to `update cluster` against: moto in server mode (one
 * process per LocalAws, so no two tests see each other's resources) behind MotoProxy, which
 * corrects the two replies in which moto differs from AWS in a way kops trips over and can make
 * one API action fail on demand. Nothing reaches a network; the nodes kops describes never boot.
 *
 * See /work/shared/reference/kops-update-moto.md for the trial this is built on.
 */
import { spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHANNEL, kopsEnv } from "./kops";
import { type AwsCall, type AwsErrorAnswer, MotoProxy } from "./moto-proxy";
import { motoSpec, type RunningServer, startServer, toolPath } from "./servers";

export type { AwsCall, AwsErrorAnswer };

/** kops's own version: the last element of KOPS_BASE_URL overrides it, so the hash folder is named so. */
export const KOPS_VERSION = "1.36.2";
/** One of moto's built-in Ubuntu AMIs (the offline channel names no image). */
export const MOTO_AMI = "ami-785db401";
/**
 * A release kops 1.36.2 supports (1.31 and later; 1.33 and later undeprecated) and carries the
 * binaries' hashes of (pkg/assets/assetdata/k8s-1.34.yaml), so none is fetched from dl.k8s.io.
 * The offline channel recommends none, and kops would otherwise ask dl.k8s.io for stable.txt.
 */
export const AWS_KUBERNETES_VERSION = "v1.34.8";

export interface LocalAws {
  /** The correcting proxy's URL, to give as AWS_ENDPOINT_URL. */
  endpoint: string;
  moto: RunningServer;
  /**
   * kops's environment for `update cluster` against this moto with a store on the shared MinIO
   * (S3_* vars as kopsEnv gives) or a file:// store: AWS_ENDPOINT_URL, fake AWS credentials,
   * AWS_REGION=us-east-1, AWS_EC2_METADATA_DISABLED, KOPS_RUN_TOO_NEW_VERSION=1, KOPS_BASE_URL
   * (the hash folder), KUBECONFIG (a scratch file), PATH, HOME (a scratch folder); extra merged last.
   */
  env(extra?: Record<string, string>): Record<string, string>;
  /**
   * Makes every call of one API action (e.g. "CreateLaunchTemplate", matched on the Action= form
   * field or X-Amz-Target / the query) answer an AWS-shaped error (default 500 InternalError)
   * until the returned function is called.
   */
  failAction(action: string, answer?: AwsErrorAnswer): () => void;
  /** Actions seen so far, in order (for assertions). */
  seen(): string[];
  /** The same calls with their service and the status the client got. */
  calls(): AwsCall[];
  /** Cloud resources as moto holds them, tagged KubernetesCluster=<clusterName>. */
  resources(clusterName: string): Promise<AwsResources>;
  /** The scratch folder holding the hash folder, KUBECONFIG and HOME; removed by close. */
  dir: string;
  close(): Promise<void>;
}

export interface AwsResources {
  vpcs: string[];
  subnets: string[];
  autoscalingGroups: string[];
  launchTemplates: string[];
  iamRoles: string[];
}

export async function startLocalAws(): Promise<LocalAws> {
  const moto = await startServer(motoSpec("moto_server (kops's AWS)"));
  let proxy: MotoProxy;
  try {
    proxy = await MotoProxy.start(moto.endpoint);
  } catch (e) {
    await moto.stop();
    throw e;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-local-aws-"));
  const home = path.join(dir, "home");
  fs.mkdirSync(home);
  const baseUrl = writeHashFolder(path.join(dir, "kops-base"));
  return {
    endpoint: proxy.endpoint,
    moto,
    dir,
    env: (extra = {}) => ({
      ...kopsEnv(),
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      KOPS_RUN_TOO_NEW_VERSION: "1",
      KOPS_BASE_URL: baseUrl,
      KUBECONFIG: path.join(dir, "kubeconfig"),
      HOME: home,
      ...extra,
    }),
    failAction: (action, answer = { status: 500, code: "InternalError", message: "We encountered an internal error. Please try again." }) => proxy.fail(action, answer),
    seen: () => proxy.seen().map((c) => c.action),
    calls: () => proxy.seen().map((c) => ({ ...c })),
    resources: (clusterName) => resourcesOf(moto.endpoint, clusterName),
    close: async () => {
      await proxy.close();
      await moto.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// KOPS_BASE_URL

/**
 * The files under KOPS_BASE_URL whose `.sha256` kops 1.36.2 reads in `update cluster` (and in
 * the preview of a plain `create cluster`), found by running it: without one it stops with
 * `cannot determine hash for "<KOPS_BASE_URL>linux/amd64/nodeup"` and the like. It reads them
 * for both architectures whatever the instance groups run, and never the files themselves.
 */
export const KOPS_BASE_FILES: readonly string[] = ["amd64", "arm64"].flatMap((arch) => [
  `linux/${arch}/nodeup`,
  `linux/${arch}/protokube`,
  ...["kops-utils-cp", "kops-controller", "kops-channels", "dns-controller", "kube-apiserver-healthcheck"].map((image) => `images/${image}-${arch}.tar.gz`),
]);

/**
 * Writes `<dir>/<KOPS_VERSION>/<file>.sha256` for each of KOPS_BASE_FILES and returns the folder
 * as a file:// URL with a trailing slash. The hashes are stand-ins (the SHA-256 of the file's
 * name): kops only checks that one exists and is well formed, and no node ever downloads the file.
 */
function writeHashFolder(dir: string): string {
  const base = path.join(dir, KOPS_VERSION);
  for (const file of KOPS_BASE_FILES) {
    const target = path.join(base, `${file}.sha256`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, `${createHash("sha256").update(file).digest("hex")}\n`);
  }
  return `file://${base}/`;
}

// ---------------------------------------------------------------------------------------------
// Cluster names

/**
 * The prefixes kops names load balancers and target groups with (pkg/model/awsmodel:
 * LBName32, NLBTargetGroupName), through awsup.GetResourceName32.
 */
const RESOURCE_NAME_32_PREFIXES = ["api", "tcp", "tls", "kops-controller", "etcd-cilium", "bastion"] as const;

/**
 * kops's awsup.GetResourceName32(cluster, prefix): `<prefix>-<cluster, dots as dashes>`, cut to
 * 25 characters, then `-` and the first 6 characters of the lowercase base32hex FNV-32a hash of
 * the uncut string. Always 32 characters or fewer.
 */
export function kopsResourceName32(cluster: string, prefix: string): string {
  const s = `${prefix}-${cluster.replace(/\./g, "-")}`;
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  const alphabet = "0123456789abcdefghijklmnopqrstuv";
  let bits = BigInt(h) << 3n; // 32 bits, padded to 35: seven 5-bit digits
  let hash = "";
  for (let i = 0; i < 7; i++, bits <<= 5n) hash += alphabet[Number((bits >> 30n) & 31n)];
  return `${s.slice(0, 32 - 6 - 1)}-${hash.slice(0, 6)}`;
}

/**
 * Whether moto (and AWS) take every load-balancer and target-group name kops derives for
 * `cluster`. Target-group names must match `(?!.*--)(?!^-)(?!.*-$)^[A-Za-z0-9-]+$`: when
 * GetResourceName32's cut ends on a dash, the name holds `--` and CreateTargetGroup is refused
 * (`upd29112.k8s.local` gives `kops-controller-upd29112--43a80i`: the 25-character cut is
 * `kops-controller-upd29112-`). For `<label>.k8s.local` that is a label of 4, 8, 12, 16 or 20
 * characters (the length, not the letters, decides).
 */
export function awsNamesValid(cluster: string): boolean {
  return RESOURCE_NAME_32_PREFIXES.every((p) => /^(?!.*--)(?!-)(?!.*-$)[A-Za-z0-9-]{1,32}$/.test(kopsResourceName32(cluster, p)));
}

/**
 * A cluster name unique to this run (`<prefix><time><random>.k8s.local`: no DNS zone, so kops
 * uses no Route53) for which every name kops derives is one moto accepts: the first label's
 * length is never one that puts a dash where kops cuts a 32-character name (see awsNamesValid).
 */
export function awsClusterName(prefix = "kst"): string {
  let label = `${prefix}${Date.now().toString(36)}${randomBytes(3).toString("hex")}`.toLowerCase();
  while (!awsNamesValid(`${label}.k8s.local`)) label += randomBytes(1).toString("hex").slice(0, 1);
  return `${label}.k8s.local`;
}

// ---------------------------------------------------------------------------------------------
// Running kops

export interface KopsRun {
  stdout: string;
  stderr: string;
  /** Wall time of the call. */
  ms: number;
}

/** Why a kops call failed: it exited non-zero, logged `error running task`, or ran out of time. */
export class KopsAwsError extends Error {
  constructor(readonly reason: "exit" | "task" | "timeout", readonly args: string[], readonly run: KopsRun, detail: string) {
    super(`kops ${args.join(" ")}: ${detail} after ${(run.ms / 1000).toFixed(1)} s\n${tail(run.stderr)}`);
  }
}

const tail = (text: string, lines = 25) => text.split("\n").slice(-lines).join("\n");

/**
 * Runs the real kops with `env` and resolves with its output once it exits 0. It fails (and is
 * killed) as soon as it logs `error running task`: kops otherwise retries a failing task for
 * about 10 minutes before giving up. It also fails after `timeoutMs` (default 120 s).
 */
export function kopsAws(args: string[], env: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<KopsRun> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(toolPath("kops"), args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let failure: { reason: "task" | "timeout"; detail: string } | undefined;
    const stop = (reason: "task" | "timeout", detail: string) => {
      if (failure) return;
      failure = { reason, detail };
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => stop("timeout", `no exit within ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes("error running task")) stop("task", "a task failed (`error running task`)");
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const run = { stdout, stderr, ms: performance.now() - started };
      if (failure) reject(new KopsAwsError(failure.reason, args, run, failure.detail));
      else if (code !== 0) reject(new KopsAwsError("exit", args, run, `exit ${code ?? signal}`));
      else resolve(run);
    });
  });
}

/** An RSA public key in OpenSSH form (with ed25519, moto's key-pair fingerprint differs from AWS's, and every plan shows an SSHKey change). */
export function rsaSshPublicKey(comment = "admin@kstate.test"): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const mpint = (b64url: string) => {
    const b = Buffer.from(b64url, "base64url");
    return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  };
  const blob = Buffer.concat([Buffer.from("ssh-rsa"), mpint(jwk.e!), mpint(jwk.n!)].flatMap((p) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    return [len, p];
  }));
  return `ssh-rsa ${blob.toString("base64")} ${comment}\n`;
}

/**
 * Creates cluster `name` in `store` with the real kops, as kops can then `update cluster` it
 * against `aws`: one zone (us-east-1a), moto's AMI, the offline channel, AWS_KUBERNETES_VERSION,
 * small machine types, and an RSA admin SSH key. `args` are added to `kops create cluster`.
 *
 * It runs `create cluster --dry-run -o yaml`, `create -f` and `create sshpublickey` (about
 * 0.2 s each): a plain `create cluster` writes the same documents but then previews the whole
 * update (seconds), and the key is not part of the dry run's documents.
 */
export async function createAwsCluster(store: string, name: string, aws: LocalAws, args: string[] = []): Promise<void> {
  const dir = fs.mkdtempSync(path.join(aws.dir, "create-"));
  const env = aws.env();
  const expanded = await kopsAws([
    "create", "cluster", "--name", name, "--state", store, "--cloud", "aws", "--zones", "us-east-1a",
    "--image", MOTO_AMI, "--channel", CHANNEL, "--kubernetes-version", AWS_KUBERNETES_VERSION,
    "--node-size", "t3.medium", "--control-plane-size", "t3.medium", ...args, "--dry-run", "-o", "yaml",
  ], env);
  fs.writeFileSync(path.join(dir, "cluster.yaml"), expanded.stdout);
  fs.writeFileSync(path.join(dir, "admin.pub"), rsaSshPublicKey());
  await kopsAws(["create", "-f", path.join(dir, "cluster.yaml"), "--state", store], env);
  await kopsAws(["create", "sshpublickey", "--name", name, "-i", path.join(dir, "admin.pub"), "--state", store], env);
}

// ---------------------------------------------------------------------------------------------
// Reading moto back

/**
 * One query-protocol call straight to moto (not through the proxy, so `seen` stays kops's).
 * moto routes by the SigV4 credential scope and checks no signature.
 */
export async function motoCall(endpoint: string, service: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto ${service} ${params.Action}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text;
}

/** The distinct texts of every `<tag>` element in `xml`, in order. */
function texts(xml: string, tag: string): string[] {
  return [...new Set([...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]!))];
}

async function resourcesOf(endpoint: string, cluster: string): Promise<AwsResources> {
  const ec2 = (action: string) => motoCall(endpoint, "ec2", { Action: action, Version: "2016-11-15", "Filter.1.Name": "tag:KubernetesCluster", "Filter.1.Value.1": cluster });
  const [vpcs, subnets, templates, groups, roles] = await Promise.all([
    ec2("DescribeVpcs"),
    ec2("DescribeSubnets"),
    ec2("DescribeLaunchTemplates"),
    motoCall(endpoint, "autoscaling", { Action: "DescribeAutoScalingGroups", Version: "2011-01-01", "Filters.member.1.Name": "tag:KubernetesCluster", "Filters.member.1.Values.member.1": cluster }),
    motoCall(endpoint, "iam", { Action: "ListRoles", Version: "2010-05-08", MaxItems: "1000" }),
  ]);
  // ListRoles carries no tags (as on AWS): each role's are asked for.
  const iamRoles: string[] = [];
  for (const role of texts(roles, "RoleName")) {
    const tags = await motoCall(endpoint, "iam", { Action: "ListRoleTags", Version: "2010-05-08", RoleName: role });
    const members = [...tags.matchAll(/<member>([\s\S]*?)<\/member>/g)].map((m) => m[1]!);
    if (members.some((m) => texts(m, "Key")[0] === "KubernetesCluster" && texts(m, "Value")[0] === cluster)) iamRoles.push(role);
  }
  return {
    vpcs: texts(vpcs, "vpcId"),
    subnets: texts(subnets, "subnetId"),
    autoscalingGroups: texts(groups, "AutoScalingGroupName"),
    launchTemplates: texts(templates, "launchTemplateName"),
    iamRoles,
  };
}
