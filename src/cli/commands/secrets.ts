/**
 * `kstate create secret`, `kstate get secrets` and `kstate delete secret`: kops-format secrets
 * (`secrets/<name>` holding `{"Data":"<base64>"}`), sealed on the client when the store encrypts
 * client side; kops's typed secrets (dockerconfig, encryptionconfig, ciliumpassword) checked as
 * kops and what it feeds would read them. Listings show names and a short SHA-256 of each value;
 * values only with --reveal.
 */
import { parseArgs } from "node:util";
import { LEGACY_SSH_SECRET, legacySshKeyNotice } from "../../ops/admin-ssh-key";
import { applyDocuments, checkPlan, planDocuments } from "../../ops/documents";
import { listSecrets } from "../../ops/list-secrets";
import { describeChanges } from "../../ops/plan";
import { checkTypedSecret, isTypedSecret, TYPED_SECRETS } from "../../ops/typed-secrets";
import { readPolicyAhead } from "../../store/policy-guard";
import { encodeSecret, SECRET_NAME, secretHash } from "../../store/secrets";
import { newDocument, stringifyYaml } from "../../store/yaml";
import { isEnvelope } from "../../vfs";
import { NotFoundError, RefusedError } from "../../vfs/errors";
import { colours, confirm, EXIT, type Io, table, UsageError } from "../io";
import { sealedFromKopsWarning } from "../encryption-flags";
import { readInputFile } from "../input-file";
import { clusterName } from "../cluster-name";
import { encryptionFromEnv, openClusterStore, openRawStore } from "../open-store";

/**
 * The cluster: the --name flag, else KOPS_CLUSTER_NAME, as for every command. --cluster, which
 * these two commands once took, still works, with a warning.
 */
function secretsCluster(command: string, values: { cluster?: string | undefined; name?: string | undefined }, io: Io): string {
  if (values.cluster === undefined) return clusterName(command, undefined, values.name, io.env);
  io.stderr.write("warning: --cluster is deprecated; name the cluster with --name, as for every other command\n");
  if (values.name !== undefined && values.cluster !== values.name) {
    throw new UsageError(`two cluster names: ${JSON.stringify(values.cluster)} (--cluster) and ${JSON.stringify(values.name)} (--name); give one`);
  }
  return clusterName(command, undefined, values.cluster, io.env, "--cluster");
}

const ABOUT_SECRETS = `Secrets are stored as kops stores them: secrets/NAME holding {"Data":"<base64>"}; names may hold
letters, digits and . _ - : (kops's system:dns, for instance). With KSTATE_PASSPHRASE set they are
encrypted before they leave this machine (see kstate rekey --help).`;

const CLUSTER_OPTIONS = `  --state URL       the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)
  --name CLUSTER    the cluster (default: KOPS_CLUSTER_NAME, as for kops)`;

export const CREATE_SECRET_HELP = `Usage:
  kstate create secret dockerconfig|encryptionconfig|ciliumpassword --name CLUSTER -f FILE [--force] [--dry-run]
  kstate create secret NAME --name CLUSTER (-f FILE | --from-file FILE | --from-literal VALUE) [--replace] [--dry-run]

Stores a secret of cluster CLUSTER. FILE - reads stdin. The typed secrets kops reads are checked
first and refused, naming the file, when kops or what it feeds could not use them:
  dockerconfig      a Docker config.json (a JSON object), the nodes' registry credentials
  encryptionconfig  kube-apiserver's EncryptionConfiguration (YAML, kind EncryptionConfiguration)
  ciliumpassword    Cilium's IPsec key, one line: keys: SPI rfc4106(gcm(aes)) KEY ICV (KEY 40, 56
                    or 72 hex digits), e.g. keys: 3+ rfc4106(gcm(aes)) <40 hex digits> 128
An existing secret holding another value is replaced only with --force (kops's flag) or --replace,
and then only if unchanged since it was read; the same value again is nothing to do. The admin
SSH key is not a secret: kops reads it from pki/ssh/public/admin (kstate create sshpublickey).
--from-literal puts the value on the command line, where ps and shell history see it; prefer -f.

${ABOUT_SECRETS}

Options:
${CLUSTER_OPTIONS}
  -f, --filename FILE  the value, the file's bytes (- reads stdin); --from-file is the same
  --from-literal V     the value, as given (warned against)
  --force, --replace   overwrite a different value
  --dry-run            show the change and write nothing

Exit codes: 0 success, 1 refused or invalid (nothing written), 2 usage error, 3 a different value is
stored (or it changed meanwhile), 4 nothing to do.
`;

export const GET_SECRETS_HELP = `Usage: kstate get secrets [NAME...] --name CLUSTER [--reveal] [-o table|yaml|json|plaintext]

Lists the secrets of cluster CLUSTER (or those named): names, a short SHA-256 of each value and
whether it is stored encrypted; values only with --reveal, or -o plaintext (each value and a
newline, as kops get secrets -o plaintext prints them). A secret that cannot be opened (sealed
under a key not given, damaged, not a kops secret) is listed without its hash (ENCRYPTED "-" if
it could not be read at all), named on stderr, and the command exits 1 after listing the rest,
as kubectl get does when one object fails. A secrets/sshpublickey file, which kops never reads,
is reported with how to move it.

${ABOUT_SECRETS}

Options:
${CLUSTER_OPTIONS}
  --reveal          print the values too
  -o, --output      table (default), yaml, json, or plaintext (the values)

Exit codes: 0 success (none stored is an empty table, as kubectl lists none), 1 failure (no such
cluster, a NAME not stored, or a secret that cannot be opened), 2 usage error.
`;

export const DELETE_SECRET_HELP = `Usage: kstate delete secret NAME --name CLUSTER [--yes] [--dry-run]

Deletes secret NAME of cluster CLUSTER (secrets/NAME), as kops delete secret does, after asking
(or --yes); the removal is conditional on the file being as it was read. Unlike kops, delete
secret sshpublickey removes only the file secrets/sshpublickey (which kops never reads); the admin
SSH key goes with kstate delete sshpublickey.

Options:
${CLUSTER_OPTIONS}
  -y, --yes         do not ask
  --dry-run         show the change and write nothing

Exit codes: 0 done, 1 failure (e.g. no such secret), 2 usage error, 3 it changed meanwhile.
`;

/** Whether the store sealed what it just wrote at `secrets/NAME` (kops cannot open a sealed file). */
async function sealed(state: string | undefined, io: Io, cluster: string, name: string): Promise<boolean> {
  const raw = openRawStore(state, io.env).join(cluster, "secrets", name);
  return isEnvelope((await raw.read()).data);
}

export async function createSecret(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      cluster: { type: "string" }, name: { type: "string" }, "from-literal": { type: "string" }, "from-file": { type: "string" }, filename: { type: "string", short: "f" },
      replace: { type: "boolean" }, force: { type: "boolean" }, "dry-run": { type: "boolean" }, state: { type: "string" },
    },
  });
  const [, name, ...rest] = positionals;
  if (!name || rest.length > 0) throw new UsageError(`create secret takes one secret NAME (${TYPED_SECRETS.join(", ")}, or a name of your own)`);
  if (!SECRET_NAME.test(name)) throw new UsageError(`secret name ${JSON.stringify(name)}: use letters, digits and . _ - : only`);
  const cluster = secretsCluster("create secret", values, io);
  if (name === LEGACY_SSH_SECRET) {
    throw new RefusedError(`kops never reads secrets/sshpublickey: it takes the admin SSH key from pki/ssh/public/admin/<fingerprint>. Use kstate create sshpublickey --name ${cluster} -i FILE. Nothing was written.`);
  }
  const files = [values["from-file"], values.filename].filter((f): f is string => f !== undefined);
  if (files.length + (values["from-literal"] === undefined ? 0 : 1) !== 1) throw new UsageError("give exactly one of --from-literal VALUE or --from-file PATH (or -f FILE; - reads stdin)");
  let value: Buffer;
  let source: string;
  if (files[0] !== undefined) ({ data: value, source } = await readInputFile(values.filename !== undefined ? "-f" : "--from-file", files[0], io));
  else {
    io.stderr.write("warning: --from-literal puts the secret on the command line, where ps and shell history see it; prefer -f FILE or -f - (stdin)\n");
    value = Buffer.from(values["from-literal"]!, "utf8");
    source = "--from-literal";
  }
  if (isTypedSecret(name)) checkTypedSecret(name, value, source);
  else if (value.length === 0) throw new UsageError("the secret's value is empty");

  const store = openClusterStore(values.state, io.env, io);
  // The cluster and the secret read at once; the write is conditional on them.
  if (!values["dry-run"]) readPolicyAhead(store.root);
  const plan = await planDocuments(store, { name: cluster, edits: [{ file: `secrets/${name}`, content: Buffer.from(encodeSecret(value)) }] });
  if (!plan.existed) store.noSuchCluster(cluster);
  checkPlan(store, plan);
  const what = `secret ${name} of ${cluster}`;
  const change = plan.changes[0];
  if (!change) {
    io.stdout.write(`Secret ${name} of ${cluster} already holds this value: nothing to do.\n`);
    return EXIT.nothingToDo;
  }
  if (change.action === "update" && !values.replace && !values.force) {
    io.stderr.write(`kstate: ${what} holds a different value; pass ${isTypedSecret(name) ? "--force (as for kops)" : "--replace"} to overwrite it\n`);
    return EXIT.conflict;
  }
  if (values["dry-run"]) {
    io.stdout.write(`${colours(io).bold(`Cluster ${cluster}`)} in ${store.root.url}\n${describeChanges(plan).map((l) => `  ${l}`).join("\n")}\nDry run: nothing was written.\n`);
    return EXIT.ok;
  }
  await applyDocuments(store, plan);
  io.stdout.write(`${colours(io).green(change.action === "create" ? "Created" : "Replaced")} ${what} (sha256 ${secretHash(value)}).\n`);
  // kops opens a secret to print its value, and the typed ones again when it updates the cluster.
  if (encryptionFromEnv(io.env) && await sealed(values.state, io, cluster, name)) {
    io.stderr.write(sealedFromKopsWarning([`secrets/${name}`], isTypedSecret(name) ? `kops update cluster and kops get secrets ${name} -o plaintext fail on it` : `kops get secrets ${name} -o plaintext fails on it`));
  }
  return EXIT.ok;
}

export async function deleteSecret(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" }, yes: { type: "boolean", short: "y" }, "dry-run": { type: "boolean" } },
  });
  const [, name, ...rest] = positionals;
  if (!name || rest.length > 0) throw new UsageError("delete secret takes one secret NAME: kstate delete secret NAME --name CLUSTER");
  if (name.includes("/") || name === "." || name === "..") throw new UsageError(`secret name ${JSON.stringify(name)}: a secret is a file directly under secrets/`);
  const cluster = clusterName("delete secret", undefined, values.name, io.env);
  const store = openClusterStore(values.state, io.env, io);
  // The cluster and the secret read at once; the delete is conditional on the revision read.
  if (!values["dry-run"]) readPolicyAhead(store.root);
  const plan = await planDocuments(store, { name: cluster, edits: [{ file: `secrets/${name}`, content: null }] });
  if (!plan.existed) store.noSuchCluster(cluster);
  if (!plan.files.some((f) => f.file === `secrets/${name}`)) {
    // kops's `delete secret sshpublickey` deletes the admin SSH key; here the name is only ever the file.
    const hint = name === LEGACY_SSH_SECRET ? ` (the admin SSH key is deleted with kstate delete sshpublickey --name ${cluster})` : "";
    throw new NotFoundError(`secret ${JSON.stringify(name)} of ${cluster} not found in ${store.root.url}${hint}`, { url: store.cluster(cluster).join("secrets", name).url });
  }
  checkPlan(store, plan);
  const c = colours(io);
  io.stdout.write(`${c.bold(`Cluster ${cluster}`)} in ${store.root.url}\n${describeChanges(plan).map((l) => `  ${l}`).join("\n")}\n`);
  if (values["dry-run"]) {
    io.stdout.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  if (!values.yes && !(await confirm(io, `Delete secret ${name} of ${cluster}?`, "delete the secret"))) return EXIT.failure;
  await applyDocuments(store, plan);
  io.stdout.write(`${c.green("Deleted")} secret ${name} of ${cluster}.${name === LEGACY_SSH_SECRET ? " The admin SSH key under pki/ssh/public/admin is untouched." : ""}\n`);
  return EXIT.ok;
}

export async function getSecrets(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { cluster: { type: "string" }, name: { type: "string" }, reveal: { type: "boolean" }, output: { type: "string", short: "o" }, state: { type: "string" } },
  });
  const names = positionals.slice(1);
  const cluster = secretsCluster("get secrets", values, io);
  const output = values.output ?? "table";
  if (!["table", "yaml", "json", "plaintext"].includes(output)) throw new UsageError(`-o must be table, yaml, json or plaintext (got ${output})`);
  const store = openClusterStore(values.state, io.env, io);
  // That the cluster is there, and the secrets' listing, at once; then the secrets.
  const [, rows] = await Promise.all([store.requireConfig(cluster), listSecrets(store.cluster(cluster).join("secrets"), openRawStore(values.state, io.env).join(cluster, "secrets"), names)]);
  for (const missing of names.filter((n) => !rows.some((r) => r.name === n))) io.stderr.write(`kstate get secrets: secret ${JSON.stringify(missing)} not found\n`);
  if (rows.some((r) => r.name === LEGACY_SSH_SECRET) && output !== "plaintext") io.stderr.write(`note: ${legacySshKeyNotice(cluster)}`);
  for (const r of rows) if (r.problem) io.stderr.write(`kstate get secrets: ${r.problem}\n`);
  const reveal = values.reveal === true;
  const shown = rows.map((r) => ({
    name: r.name, sha256: r.sha256 ?? null, encrypted: r.encrypted ?? null,
    ...(reveal && r.value ? { value: r.value.toString("utf8") } : {}), ...(r.problem ? { error: r.problem } : {}),
  }));
  if (output === "plaintext") io.stdout.write(rows.filter((r) => r.value).map((r) => `${r.value!.toString("utf8")}\n`).join(""));
  else if (output === "json") io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  else if (output === "yaml") io.stdout.write(stringifyYaml(newDocument(shown)));
  else io.stdout.write(table(["NAME", "SHA256", "ENCRYPTED", ...(reveal ? ["VALUE"] : [])], shown.map((r) => [r.name, r.sha256 ?? "-", r.encrypted === undefined ? "-" : r.encrypted ? "yes" : "no", ...(reveal ? [r.value ?? ""] : [])])));
  return rows.some((r) => r.problem) || names.some((n) => !rows.some((r) => r.name === n)) ? EXIT.failure : EXIT.ok;
}
