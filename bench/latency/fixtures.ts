/**
 * The stores the latency benchmark reads and writes, written straight to MinIO (not through the
 * proxies) before anything is timed:
 *
 * - a cluster as `kstate create cluster` writes it (Hetzner, one zone: kops needs no cloud to
 *   read or replace it), filled up with kops-like files (keysets, secrets, addons, manifests,
 *   backups) to a given count: 63 files for the reads, the export and the small migration,
 *   2,000 for the large one;
 * - four more such clusters for the writing commands, one per tool and command, so each tool
 *   changes only its own;
 * - 100 clusters of 50 files each for `get clusters`.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { openPath } from "../../src/vfs";
import { CHANNEL } from "../../test/support/kops";
import { s3Options } from "../../test/support/env";

const run = promisify(execFile);
/** Straight to MinIO: only S3 runs here. */
const open = (url: string) => openPath(url, { s3: s3Options(), timeoutMs: 30_000 });
const REPO = path.resolve(__dirname, "..", "..", "..");
export const KSTATE = path.join(REPO, "bin", "kstate.js");

/** kops-like file names beside a cluster's documents, in the order a cluster fills up with them. */
function extraFile(i: number): string {
  const keysets = ["kubernetes-ca", "etcd-clients-ca", "etcd-manager-ca-main", "etcd-manager-ca-events", "etcd-peers-ca-main", "etcd-peers-ca-events", "apiserver-aggregator-ca", "service-account", "kube-proxy", "kubelet", "kops"];
  const secrets = ["admin", "kube", "kube-proxy", "kubelet", "system:dns", "system:controller_manager", "system:logging", "system:monitoring", "system:scheduler", "dockerconfig"];
  const addons = ["bootstrap-channel.yaml", "coredns.addons.k8s.io/k8s-1.12.yaml", "dns-controller.addons.k8s.io/k8s-1.12.yaml", "kops-controller.addons.k8s.io/k8s-1.16.yaml",
    "kubelet-api.rbac.addons.k8s.io/k8s-1.9.yaml", "leader-migration.rbac.addons.k8s.io/k8s-1.23.yaml", "limit-range.addons.k8s.io/v1.5.0.yaml",
    "networking.cilium.io/k8s-1.16-v1.15.yaml", "storage-hcloud.addons.k8s.io/k8s-1.22.yaml", "hcloud-cloud-controller.addons.k8s.io/k8s-1.22.yaml", "metrics-server.addons.k8s.io/k8s-1.11.yaml"];
  const fixed = [
    "cluster-completed.spec", "kops-version.txt",
    ...keysets.map((k) => `pki/private/${k}/keyset.yaml`), ...keysets.map((k) => `pki/issued/${k}/keyset.yaml`),
    ...secrets.map((s) => `secrets/${s}`), ...addons.map((a) => `addons/${a}`),
    "manifests/etcd/main-control-plane-fsn1.yaml", "manifests/etcd/events-control-plane-fsn1.yaml", "manifests/static/kube-apiserver-healthcheck.yaml",
    "igconfig/control-plane/control-plane-fsn1/nodeupconfig.yaml", "igconfig/node/nodes-fsn1/nodeupconfig.yaml",
    "backups/etcd/main/control/etcd-cluster-spec", "backups/etcd/events/control/etcd-cluster-spec",
  ];
  if (i < fixed.length) return fixed[i]!;
  const n = i - fixed.length;
  return [`backups/etcd/main/2026-11-${String(1 + (n % 28)).padStart(2, "0")}T00:00:00Z-${n}/etcd.backup.meta`, `secrets/token-${n}`, `pki/issued/client-${n}/keyset.yaml`][n % 3]!;
}

/** Sizes of kops's small files: 200 B to about 8 KiB. */
function extraContent(i: number): string {
  const size = 200 + ((i * 2654435761) % 8000);
  return `# kops-like file ${i}\n${"x".repeat(size)}\n`;
}

/** `kstate create cluster NAME` on `store` (straight to MinIO). */
export async function createCluster(store: string, name: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run(process.execPath, [KSTATE, "create", "cluster", name, "--state", store, "--cloud", "hetzner", "--zones", "fsn1", "--kubernetes-version", "v1.30.2",
      "--node-size", "cx22", "--control-plane-size", "cx32", "--image", "ubuntu-24.04", "--channel", CHANNEL], { env, timeout: 120_000 });
  } catch (e) {
    throw new Error(`creating ${name} in ${store}: ${(e as Error).message}\n${(e as { stderr?: string }).stderr ?? ""}`);
  }
}

/**
 * A cluster of `groups` instance groups: the two `createCluster` makes (a hetzner cluster has one
 * location), then node groups added one by one with `kstate create ig`.
 */
export async function wideCluster(store: string, name: string, groups: number, env: NodeJS.ProcessEnv): Promise<void> {
  await createCluster(store, name, env);
  try {
    for (let i = 2; i < groups; i++) await run(process.execPath, [KSTATE, "create", "ig", `workers-${i}`, "--name", name, "--state", store, "--subnet", "fsn1"], { env, timeout: 120_000 });
  } catch (e) {
    throw new Error(`adding instance groups to ${name} in ${store}: ${(e as Error).message}\n${(e as { stderr?: string }).stderr ?? ""}`);
  }
  const have = (await open(`${store}/${name}/instancegroup`).list()).length;
  if (have !== groups) throw new Error(`${name}: ${have} instance groups, not the ${groups} asked for`);
}

/** Writes `files` (path -> content) under `root`, 64 at a time. */
async function writeAll(root: string, files: [string, string][]): Promise<void> {
  const base = open(root);
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < files.length) {
      const [file, content] = files[next++]!;
      await base.join(file).write(content);
    }
  }));
}

export async function countFiles(url: string): Promise<number> {
  return (await open(url).listTree()).length;
}

/** A created cluster filled up to `total` files; returns the count, checked. */
export async function clusterOf(store: string, name: string, total: number, env: NodeJS.ProcessEnv): Promise<number> {
  await createCluster(store, name, env);
  const have = await countFiles(`${store}/${name}`);
  if (have > total) throw new Error(`${name}: kstate create cluster wrote ${have} files, more than the ${total} asked for`);
  await writeAll(`${store}/${name}`, Array.from({ length: total - have }, (_, i) => [extraFile(i), extraContent(i)]));
  const count = await countFiles(`${store}/${name}`);
  if (count !== total) throw new Error(`${name}: ${count} files after filling up, not ${total} (a generated name repeated?)`);
  return count;
}

function listedConfig(name: string, store: string): string {
  return `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  creationTimestamp: "2026-11-20T00:00:00Z"\n  name: ${name}\nspec:\n  cloudProvider: aws\n  configBase: ${store}/${name}\n  kubernetesVersion: v1.30.2\n  subnets:\n  - name: us-east-1a\n    type: Public\n    zone: us-east-1a\n`;
}

/** `clusters` clusters of `perCluster` files each (a config, three groups, then kops-like files), as bench:cli builds them. */
export async function manyClusters(store: string, clusters: number, perCluster: number): Promise<string[]> {
  const names = Array.from({ length: clusters }, (_, c) => `c${String(c).padStart(4, "0")}.k8s.example.com`);
  const files: [string, string][] = names.flatMap((name) => Array.from({ length: perCluster }, (_, k): [string, string] => k === 0
    ? [`${name}/config`, listedConfig(name, store)]
    : k < 4 ? [`${name}/instancegroup/nodes-${k}`, `apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  name: nodes-${k}\nspec:\n  role: Node\n`]
      : [`${name}/${extraFile(k - 4)}`, extraContent(k)]));
  await writeAll(store, files);
  return names;
}

/** The stored document at `store/name/file`, as text. */
export async function readText(store: string, name: string, file: string): Promise<string> {
  return (await open(store).join(name, file).read()).data.toString("utf8");
}
