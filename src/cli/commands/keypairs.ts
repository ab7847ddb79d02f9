/**
 * `kstate get keypairs`, `create keypair`, `promote keypair`, `distrust keypair`, `trust keypair`
 * and `export kubeconfig`: kops's keysets (`pki/private/<keyset>/keyset.yaml`) and the admin
 * kubeconfig signed by the cluster CA. Private keys are never printed: `-o yaml|json` print what
 * kops prints for keypairs (ids, subjects, dates), never key material.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ClusterStore } from "../../store/cluster-store";
import { newDocument, stringifyYaml } from "../../store/yaml";
import { applyKeypairPlan, isNoop, type KeypairItem, type KeypairPlan, listKeypairs, planDistrustKeypair, planGenerateKeypair, planImportKeypair, planPromoteKeypair, planTrustKeypair, readKeypairMaterial } from "../../ops/keypairs";
import { parseGoDuration } from "../../ops/duration";
import { buildAdminKubeconfig, DEFAULT_ADMIN_LIFETIME_SECONDS, mergeKubeconfig } from "../../ops/kubeconfig";
import { isEnvelope } from "../../vfs";
import { colours, EXIT, type Io, table, UsageError } from "../io";
import { sealedFromKopsWarning } from "../encryption-flags";
import { clusterName } from "../cluster-name";
import { encryptionFromEnv, openClusterStore, openUrl } from "../open-store";

const CLUSTER_OPTIONS = `  --state URL       the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)
  --name CLUSTER    the cluster (default: KOPS_CLUSTER_NAME, as for kops)`;

const ABOUT = `Keypairs live where kops keeps them: pki/private/KEYSET/keyset.yaml in the cluster's folder, in
kops's format, so kops and kstate read each other's. The legacy names kops still reads (ca for
kubernetes-ca, master for service-account) are read the same way; changes are written under the
current name. Every change is planned first and written only if the keyset is still as read.`;

const WRITE_EXIT = `Exit codes: 0 written, 1 refused or invalid (nothing written), 2 usage error, 3 the keyset changed
meanwhile (nothing written), 4 nothing to do.`;

export const GET_KEYPAIRS_HELP = `Usage: kstate get keypairs [KEYSET]... --name CLUSTER [--distrusted] [-o table|yaml|json]
       kstate get keypair CLUSTER [KEYSET]... [--distrusted] [-o table|yaml|json]

Lists the keypairs of a cluster's keysets, as kops get keypairs does: the table kops prints, or
with -o yaml|json kops's fields (id, subject, issuer, dates, key length, whether it is primary and
has a private key). Key material is never printed. With --name (or KOPS_CLUSTER_NAME) every
argument is a KEYSET, as for kops; without either, the first argument is the cluster.

${ABOUT}

Options:
${CLUSTER_OPTIONS}
  --distrusted      include distrusted keypairs (and the DISTRUSTED column)
  -o, --output      table (default), yaml or json

Exit codes: 0 success, 1 failure (no such cluster, no keypairs), 2 usage error.
`;

export const CREATE_KEYPAIR_HELP = `Usage: kstate create keypair KEYSET --name CLUSTER --cert FILE [--key FILE] [--primary] [--dry-run]
       kstate create keypair KEYSET --name CLUSTER --generate [--primary] [--dry-run]

Adds a keypair to KEYSET (service-account, or a keyset whose name holds "-ca", as kops allows): the
certificate and private key from PEM files (checked: both parse, and the key is the certificate's),
or with --generate (the default without --cert, as in kops) a new RSA 2048 CA as kops makes one.
The first keypair of a keyset must be --primary; a primary needs its private key. The same
certificate again is nothing to do (with --primary, it makes that keypair primary).

${ABOUT}

Options:
${CLUSTER_OPTIONS}
  --cert FILE       the PEM certificate
  --key FILE        the PEM private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)
  --generate        make a new CA keypair
  --primary         make it the keypair that issues certificates
  --dry-run         print the change only

${WRITE_EXIT}
`;

export const PROMOTE_KEYPAIR_HELP = `Usage: kstate promote keypair KEYSET [ID] --name CLUSTER [--dry-run]

Makes keypair ID the primary of KEYSET (it must be trusted and have a certificate and private key);
without ID, the newest such keypair, as kops promote keypair does.

${ABOUT}

Options:
${CLUSTER_OPTIONS}
  --dry-run         print the change only

${WRITE_EXIT}
`;

export const DISTRUST_KEYPAIR_HELP = `Usage: kstate distrust keypair KEYSET [ID]... --name CLUSTER [--dry-run]

Distrusts keypairs of KEYSET, as kops distrust keypair does; without IDs, every keypair whose
certificate is older than the primary's. The primary cannot be distrusted (promote another first).
Every ID is checked before anything is written.

${ABOUT}

Options:
${CLUSTER_OPTIONS}
  --dry-run         print the change only

${WRITE_EXIT}
`;

export const TRUST_KEYPAIR_HELP = `Usage: kstate trust keypair KEYSET ID... --name CLUSTER [--dry-run]

Trusts distrusted keypairs of KEYSET again: the undoing of distrust keypair (kops has no such
command). It does not change the primary.

${ABOUT}

Options:
${CLUSTER_OPTIONS}
  --dry-run         print the change only

${WRITE_EXIT}
`;

export const EXPORT_KUBECONFIG_HELP = `Usage: kstate export kubeconfig CLUSTER --admin[=DURATION] [--internal] [--kubeconfig FILE]

Writes an admin kubeconfig for CLUSTER as kops export kubeconfig --admin does: the server kops picks
(spec.masterPublicName, else api.CLUSTER; api.internal.CLUSTER with --internal), the trusted
kubernetes-ca certificates as the CA, and a new client certificate (CN kubecfg-USER, O
system:masters) signed by the primary kubernetes-ca key, valid DURATION (Go form: 18h, 90m, 1h30m;
default 18h). It merges into FILE (default: the first path of $KUBECONFIG, else ~/.kube/config):
other entries stay, the cluster's cluster, context and user are replaced, the current context
becomes the cluster's, and the file is left mode 0600. kstate asks no cloud for a load balancer's
address (kops does); it says so when that would matter.

Options:
  --state URL       the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)
  --name CLUSTER    the cluster, instead of the argument (default: KOPS_CLUSTER_NAME)
  --admin[=D]       the admin credential and its lifetime (required)
  --internal        use the API's internal name
  --kubeconfig FILE the kubeconfig to write

Exit codes: 0 written, 1 failure (no such cluster, no kubernetes-ca), 2 usage error.
`;

function readInput(flag: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

/** Prints a plan; writes it unless a dry run. Exit 4 when there is nothing to do. */
async function carryOut(store: ClusterStore, plan: KeypairPlan, dryRun: boolean | undefined, io: Io): Promise<number> {
  const c = colours(io);
  if (isNoop(plan)) {
    io.stdout.write(`${plan.summary}\n`);
    return dryRun ? EXIT.ok : EXIT.nothingToDo;
  }
  io.stdout.write(`${c.bold(`Keyset ${plan.keyset} of ${plan.cluster}`)}\n${plan.lines.map((l) => `  ${l}`).join("\n")}\n`);
  if (dryRun) {
    io.stdout.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  await applyKeypairPlan(store, plan);
  io.stdout.write(`${c.green(plan.summary)}\n`);
  // Sealed by client-side encryption (the default patterns take in pki/private/**), the keyset is
  // kstate's to read: kops, nodeup and kops update cannot open it.
  // Without a key nothing is sealed: the written file is read back only with one.
  if (encryptionFromEnv(io.env) && isEnvelope((await openUrl(store.root.url, io.env).join(plan.cluster, ...plan.file.split("/")).read()).data)) {
    io.stderr.write(sealedFromKopsWarning([plan.file], "kops get keypairs skips it, kops update cluster fails"));
  }
  return EXIT.ok;
}

const WRITE_OPTIONS = { name: { type: "string" }, state: { type: "string" }, "dry-run": { type: "boolean" } } as const;

/** The keyset argument after `VERB keypair`; "all" is kops's, not kstate's. */
function keysetArg(positionals: string[], verb: string): { keyset: string; rest: string[] } {
  const [sub, keyset, ...rest] = positionals;
  if (sub !== "keypair" && sub !== "keypairs") throw new UsageError(`${verb} takes "keypair" (got ${JSON.stringify(sub ?? "")})`);
  if (!keyset) throw new UsageError(`${verb} keypair needs the KEYSET`);
  if (keyset === "all") throw new UsageError(`${verb} keypair takes one keyset; kstate has no "all"`);
  return { keyset, rest };
}

/**
 * Runs `work` on the store beside the check that the cluster is there (one round of requests, not
 * two); the cluster's absence is the error when both fail.
 */
async function inCluster<T>(state: string | undefined, cluster: string, io: Io, work: (store: ClusterStore) => Promise<T>): Promise<{ store: ClusterStore; result: T }> {
  const store = openClusterStore(state, io.env, io);
  const [config, result] = await Promise.allSettled([store.requireConfig(cluster), work(store)]);
  if (config.status === "rejected") throw config.reason;
  if (result.status === "rejected") throw result.reason;
  return { store, result: result.value };
}

/** A date as kops's table prints it: the local calendar day. */
function day(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function keypairTable(items: readonly KeypairItem[], distrusted: boolean): string {
  const heading = ["NAME", "ID", "ISSUED", "EXPIRES", ...(distrusted ? ["DISTRUSTED"] : []), "PRIMARY", "HASPRIVATE"];
  return table(heading, items.map((i) => [i.name, i.id, day(i.notBefore), day(i.notAfter), ...(distrusted ? [day(i.distrustTimestamp)] : []), i.isPrimary ? "*" : "", i.hasPrivateKey ? "*" : ""]));
}

export async function getKeypairs(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" }, distrusted: { type: "boolean" }, output: { type: "string", short: "o" } },
  });
  const args = positionals.slice(1);
  // As kops: the arguments are keysets and --name (or KOPS_CLUSTER_NAME) the cluster; without
  // either, the first argument names the cluster.
  const named = values.name !== undefined || io.env.KOPS_CLUSTER_NAME;
  const cluster = clusterName("get keypairs", named ? undefined : args.slice(0, 1), values.name, io.env);
  const keysets = named ? args : args.slice(1);
  const output = values.output ?? "table";
  if (!["table", "yaml", "json"].includes(output)) throw new UsageError(`-o must be table, yaml or json (got ${output})`);
  // The config (that the cluster is there) and the keysets at once.
  const store = openClusterStore(values.state, io.env, io);
  const [, { items, warnings }] = await Promise.all([store.requireConfig(cluster), listKeypairs(store, cluster, { names: keysets, distrusted: values.distrusted === true })]);
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
  if (items.length === 0) {
    io.stderr.write(`kstate get: no keypairs found${keysets.length ? ` in ${keysets.join(", ")}` : ""} for cluster ${cluster}\n`);
    return EXIT.failure;
  }
  if (output === "json") io.stdout.write(JSON.stringify(items));
  else if (output === "yaml") io.stdout.write(stringifyYaml(newDocument(items)));
  else io.stdout.write(keypairTable(items, values.distrusted === true));
  return EXIT.ok;
}

export async function createKeypair(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { ...WRITE_OPTIONS, cert: { type: "string" }, key: { type: "string" }, generate: { type: "boolean" }, primary: { type: "boolean" } },
  });
  const { keyset, rest } = keysetArg(positionals, "create");
  if (rest.length > 0) throw new UsageError("create keypair adds to one keyset at a time");
  const cluster = clusterName("create keypair", undefined, values.name, io.env);
  if (values.generate && (values.cert !== undefined || values.key !== undefined)) throw new UsageError("--generate makes the certificate and key: give it without --cert and --key");
  if (values.cert === undefined && values.key !== undefined) throw new UsageError("--key goes with --cert (kstate generates its own key with --generate)");
  const material = values.cert !== undefined
    ? readKeypairMaterial({ text: readInput("--cert", values.cert), source: values.cert }, values.key !== undefined ? { text: readInput("--key", values.key), source: values.key } : undefined)
    : undefined;
  const options = { primary: values.primary === true };
  const { store, result: plan } = await inCluster(values.state, cluster, io, (store) => (material ? planImportKeypair(store, cluster, keyset, material, options) : planGenerateKeypair(store, cluster, keyset, options)));
  return carryOut(store, plan, values["dry-run"], io);
}

export async function promoteKeypair(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: WRITE_OPTIONS });
  const { keyset, rest } = keysetArg(positionals, "promote");
  if (rest.length > 1) throw new UsageError("promote keypair takes one ID");
  const cluster = clusterName("promote keypair", undefined, values.name, io.env);
  const { store, result: plan } = await inCluster(values.state, cluster, io, (store) => planPromoteKeypair(store, cluster, keyset, rest[0]));
  return carryOut(store, plan, values["dry-run"], io);
}

export async function distrustKeypair(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: WRITE_OPTIONS });
  const { keyset, rest } = keysetArg(positionals, "distrust");
  const cluster = clusterName("distrust keypair", undefined, values.name, io.env);
  const { store, result: plan } = await inCluster(values.state, cluster, io, (store) => planDistrustKeypair(store, cluster, keyset, rest));
  return carryOut(store, plan, values["dry-run"], io);
}

export async function trustKeypair(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: WRITE_OPTIONS });
  const { keyset, rest } = keysetArg(positionals, "trust");
  if (rest.length === 0) throw new UsageError("trust keypair needs the ID(s) to trust");
  const cluster = clusterName("trust keypair", undefined, values.name, io.env);
  const { store, result: plan } = await inCluster(values.state, cluster, io, (store) => planTrustKeypair(store, cluster, keyset, rest));
  return carryOut(store, plan, values["dry-run"], io);
}

/** The name kops appends to the CN: the user's full name from the passwd entry (Go's user.Current().Name). */
function osUserName(): string | undefined {
  try {
    const uid = process.getuid?.();
    const line = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === String(uid));
    const gecos = line?.split(":")[4]?.split(",")[0];
    return gecos !== undefined && gecos !== "" ? gecos : os.userInfo().username;
  } catch {
    return undefined;
  }
}

/** Where kops writes a kubeconfig: --kubeconfig, else the first path of $KUBECONFIG, else ~/.kube/config. */
function kubeconfigPath(flag: string | undefined, env: Record<string, string | undefined>): string {
  if (flag) return flag;
  const first = (env.KUBECONFIG ?? "").split(path.delimiter).find((p) => p !== "");
  return first ?? path.join(env.HOME ?? os.homedir(), ".kube", "config");
}

export async function exportKubeconfig(argv: string[], io: Io): Promise<number> {
  // --admin alone means kops's default lifetime, as kops's NoOptDefVal does.
  const args = argv.map((a) => (a === "--admin" ? `--admin=${DEFAULT_ADMIN_LIFETIME_SECONDS / 3600}h` : a));
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" }, admin: { type: "string" }, internal: { type: "boolean" }, kubeconfig: { type: "string" } },
  });
  const cluster = clusterName("export kubeconfig", positionals.slice(1), values.name, io.env);
  if (values.admin === undefined) throw new UsageError("export kubeconfig writes an admin credential: pass --admin (or --admin=DURATION)");
  let lifetimeSeconds: number;
  try {
    lifetimeSeconds = parseGoDuration(values.admin, "--admin");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const userName = osUserName();
  const { result: entries } = await inCluster(values.state, cluster, io, (store) => buildAdminKubeconfig(store, cluster, { lifetimeSeconds, internal: values.internal === true, ...(userName ? { userName } : {}) }));
  for (const w of entries.warnings) io.stderr.write(`warning: ${w}\n`);
  const named = kubeconfigPath(values.kubeconfig, io.env);
  // A kubeconfig that is a link is written where it points, as kubectl and kops write it.
  let file = named;
  try {
    file = fs.realpathSync(named);
  } catch {
    // not there yet (or a dangling link: written as named)
  }
  let existing: string | undefined;
  try {
    existing = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(`--kubeconfig ${file}: ${(e as Error).message}`);
  }
  const text = mergeKubeconfig(existing, entries, file);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temp = `${file}.kstate-${process.pid}`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
  io.stdout.write(`kstate has set your kubectl context to ${cluster} (${file}).\n`);
  return EXIT.ok;
}
