import * as fs from "node:fs";
import * as path from "node:path";
import type { Document } from "yaml";
import { applyCluster, type ClusterPlan, describeChanges, planCluster } from "../../ops/cluster";
import { checkOptions } from "../../ops/options";
import { listAdminKeys, type PlannedSshKey, planKeyWrite, planSshPublicKey, writeSshPublicKey } from "../../ops/ssh-key";
import { clusterNameProblems, validationError } from "../../ops/validate";
import type { ClusterRead } from "../../store/cluster-store";
import { readPolicyAhead } from "../../store/policy-guard";
import { API_VERSION, CLUSTER_LABEL } from "../../store/layout";
import { newDocument, toPlain } from "../../store/yaml";
import { ValidationError } from "../../vfs/errors";
import { clusterName, CREATE_HELP, parseCreateFlags, specOverlay } from "../create-flags";
import { formatDocuments } from "../document-output";
import { colours, EXIT, type Io, UsageError } from "../io";
import { CONFIG_VARIABLE } from "../kops-config";
import { openClusterStore, stateStore } from "../open-store";

export { CREATE_HELP };

/** kops's path expansion: a leading ~/ is the home folder. */
function expandHome(file: string, env: Record<string, string | undefined>): string {
  return file.startsWith("~/") && env.HOME ? path.join(env.HOME, file.slice(2)) : file;
}

function readSshKey(file: string, env: Record<string, string | undefined>): PlannedSshKey {
  const full = expandHome(file, env);
  let data: Buffer;
  try {
    data = fs.readFileSync(full);
  } catch (e) {
    throw new UsageError(`--ssh-public-key: cannot read ${full} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return planSshPublicKey(data, full);
  } catch (e) {
    if (ValidationError.isInstance(e)) throw new UsageError(`--ssh-public-key ${e.message}`);
    throw e;
  }
}

/** The SSHCredential document `kops create cluster --dry-run -o yaml` prints for the key. */
function sshCredential(cluster: string, key: PlannedSshKey): Document {
  return newDocument({ apiVersion: API_VERSION, kind: "SSHCredential", metadata: { labels: { [CLUSTER_LABEL]: cluster }, name: "admin" }, spec: { publicKey: key.publicKey } });
}

export async function create(argv: string[], io: Io): Promise<number> {
  const parsed = parseCreateFlags(argv);
  const { settings, typed } = parsed;
  const name = clusterName(parsed, io.env);
  // The name becomes a path in the store: checked before anything is read there.
  const nameProblems = clusterNameProblems(name);
  if (nameProblems.length > 0) throw validationError(name.slice(0, 80), nameProblems);
  if (settings.output && !settings.dryRun) throw new UsageError(`${typed.output} ${settings.output} goes with --dry-run`);

  // As kops fills --azure-subscription-id: from the environment, for a cluster made on Azure.
  const opts = parsed.options.cloud === "azure" && parsed.options.azureSubscriptionId === undefined && io.env.AZURE_SUBSCRIPTION_ID
    ? { ...parsed.options, azureSubscriptionId: io.env.AZURE_SUBSCRIPTION_ID }
    : parsed.options;
  const problems = checkOptions(opts);
  if (problems.length > 0) throw new UsageError(problems.map((p) => `${typed[p.option] ?? `--${p.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`}: ${p.message}`).join("; "));
  const spec = specOverlay(settings.set ?? [], settings.unset ?? []).spec as Record<string, unknown> | undefined;
  const key = settings.sshPublicKey !== undefined ? readSshKey(settings.sshPublicKey, io.env) : undefined;

  const env = settings.config !== undefined ? { ...io.env, [CONFIG_VARIABLE]: settings.config } : io.env;
  if (settings.yes) io.stderr.write("kstate: --yes is accepted and ignored: kstate writes only the state store and never touches the cloud.\n");
  const storeUrl = stateStore(settings.state, env);
  const store = openClusterStore(storeUrl, env, io);
  const request = { name, storeUrl, ...(Object.keys(opts).length ? { options: opts } : {}), ...(spec ? { spec } : {}) };
  // One round of reads for the plan and the write: the config, the groups' listing and the admin
  // keys' listing at once, then the groups. The write is conditional on these reads.
  const keyListing = key ? listAdminKeys(store, name) : undefined;
  keyListing?.catch(() => {}); // awaited below, unless the plan stops the command first
  if (!settings.dryRun) readPolicyAhead(store.root);
  const reading = store.readCluster(name);
  const plan = await planCluster(store, request, new Date(), reading);
  const read = await reading;
  // An option the stored cluster cannot take is named as the flag that was typed.
  const flagOf = (option: string) => typed[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (plan.problems.length > 0) {
    throw validationError(name, plan.problems.map((p) => (p.path.startsWith("options.") ? { ...p, path: flagOf(p.path.slice("options.".length)) }
      // kops takes the version from its channel; kstate reads no channel, so the flag must say it.
      : p.file === "config" && p.path === "spec.kubernetesVersion" && p.message === "required" ? { ...p, message: "required: pass --kubernetes-version, e.g. --kubernetes-version v1.34.1 (kops takes a default from its channel; kstate reads no channel)" }
      // As kops: the cloud is told by --cloud, or by the store's scheme (s3:// aws, gs:// gce), never by the zones.
      : p.file === "config" && p.path === "spec.cloudProvider" && p.message === "required" ? { ...p, message: `required: pass --cloud (aws, gce, azure, hetzner, digitalocean, openstack, scaleway); as kops, the cloud is inferred only from an s3:// (aws) or gs:// (gce) store, not from ${storeUrl} nor from the zones` }
      : p)));
  }
  const lines = describeChanges(plan);

  // The key goes where kops's keystore keeps it, beside no other admin key.
  const keyToWrite = key ? await planKeyWrite(store, name, key, plan.files.find((f) => f.file === "config")?.after, keyListing) : undefined;
  if (keyToWrite) lines.push(`${keyToWrite.file}: create (admin SSH public key, ${keyToWrite.type} ${keyToWrite.fingerprint})`);

  // With -o the documents own stdout; the human account goes to stderr.
  const human = settings.output ? io.stderr : io.stdout;
  const c = colours(io, settings.output ? "stderr" : "stdout");
  human.write(`${c.bold(plan.existed ? `Merging into cluster ${name}` : `Creating cluster ${name}`)} in ${storeUrl}\n`);
  human.write(lines.length ? `${lines.map((l) => `  ${l}`).join("\n")}\n` : "  no changes\n");
  if (settings.dryRun) {
    if (settings.output) io.stdout.write(formatDocuments(resultDocuments(read, plan, key), settings.output));
    human.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  if (lines.length === 0) return EXIT.nothingToDo;
  if (plan.changes.length > 0) await applyCluster(store, request, { plan });
  if (keyToWrite) await writeSshPublicKey(store, name, keyToWrite);
  const written = [plan.changes.length > 0 ? `${plan.changes.length} document(s)` : "", keyToWrite ? "the admin SSH public key" : ""].filter(Boolean).join(" and ");
  human.write(`${c.green("Written")}: ${written} of ${name}.\n`);
  return EXIT.ok;
}

/** The cluster as the plan leaves it: its config, every instance group (changed or not), and the key. */
function resultDocuments(read: ClusterRead, plan: ClusterPlan, key: PlannedSshKey | undefined): Document[] {
  const config = plan.files.find((f) => f.file === "config")?.doc;
  const groups = new Map<string, Document | null>();
  if (plan.existed) for (const [g, d] of read.groups) groups.set(g, d.doc);
  for (const f of plan.files) if (f.file.startsWith("instancegroup/")) groups.set(f.file.slice("instancegroup/".length), f.doc);
  const docs: Document[] = config ? [config] : [];
  // In kops's order: the control plane, the nodes, then bastions and the rest, each by name.
  const rank = (d: Document) => ({ Master: 0, ControlPlane: 0, APIServer: 1, Node: 2, Bastion: 3 } as Record<string, number>)[String((toPlain(d) as { spec?: { role?: unknown } } | undefined)?.spec?.role)] ?? 4;
  const present = [...groups].filter((e): e is [string, Document] => e[1] !== null).sort(([a, x], [b, y]) => rank(x) - rank(y) || (a < b ? -1 : a > b ? 1 : 0));
  for (const [, d] of present) docs.push(d);
  if (key) docs.push(sshCredential(plan.name, key));
  return docs;
}
