import { parseArgs } from "node:util";
import { parse as parseYamlValue } from "yaml";
import { applyCluster, describeChanges, planCluster } from "../../ops/cluster";
import { mergeOverlay } from "../../ops/merge";
import { checkOptions, type ClusterOptions } from "../../ops/options";
import { clusterNameProblems, validationError } from "../../ops/validate";
import { ClusterStore } from "../../store/cluster-store";
import { stringifyYaml } from "../../store/yaml";
import { colours, EXIT, type Io, UsageError } from "../io";
import { openStore, stateStore } from "../store-url";

export const CREATE_HELP = `Usage: kstate create cluster NAME [kops create-cluster flags] [--set spec.path=value ...] [--dry-run [-o yaml]]

Writes cluster NAME's config and instance groups the way \`kops create cluster\` does. When the
cluster exists, the flags are merged into it: give only what changes, and everything else in the
stored documents (hand edits and comments included) is kept. Shows each field that changes,
validates the result, and writes only if it is valid. kops's --yes is about the cloud, which
kstate does not touch, so none is needed here.

Flags (as kops): --zones a,b  --control-plane-zones a,b  --control-plane-count N  --node-count N
  --node-size T  --control-plane-size T  --kubernetes-version V  --cloud C  --networking N
  --network-cidr CIDR  --topology public|private  --dns-zone Z  --ssh-access CIDRs
  --admin-access CIDRs  --image I  --node-image I  --control-plane-image I  --channel C

Options:
  --set spec.path=value   set any Cluster spec field (value read as YAML: 110, true, [a, b])
  --dry-run               show what would change, write nothing (-o yaml prints the documents)
  --state URL             the state store (default: KSTATE_STATE_STORE, then KOPS_STATE_STORE)

Exit codes: 0 written (or nothing to change), 1 failure (invalid result: nothing written),
2 usage error, 3 conflict (another writer changed the cluster meanwhile).
`;

const LIST_FLAGS = ["zones", "control-plane-zones", "ssh-access", "admin-access"] as const;
const NUMBER_FLAGS = ["control-plane-count", "node-count"] as const;
const STRING_FLAGS = ["node-size", "control-plane-size", "kubernetes-version", "cloud", "networking", "network-cidr", "topology", "dns-zone", "image", "node-image", "control-plane-image", "channel"] as const;

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `spec.kubelet.maxPods=110` -> { spec: { kubelet: { maxPods: 110 } } } */
function setOverlay(sets: string[]): Record<string, unknown> {
  let overlay: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set takes path=value (got ${JSON.stringify(s)})`);
    const path = s.slice(0, eq).split(".");
    if (path[0] !== "spec" || path.length < 2 || path.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
      throw new UsageError(`--set paths start with spec. and name map keys, e.g. spec.kubelet.maxPods (got ${JSON.stringify(s.slice(0, eq))})`);
    }
    let value: unknown;
    try {
      value = parseYamlValue(s.slice(eq + 1));
    } catch (e) {
      throw new UsageError(`--set ${s.slice(0, eq)}: the value is not valid YAML (${(e as Error).message.split("\n")[0]})`);
    }
    const nested = path.reduceRight<unknown>((acc, key) => ({ [key]: acc }), value) as Record<string, unknown>;
    overlay = mergeOverlay(overlay, nested) as Record<string, unknown>;
  }
  return overlay;
}

export async function create(argv: string[], io: Io): Promise<number> {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    state: { type: "string" }, set: { type: "string", multiple: true }, "dry-run": { type: "boolean" }, output: { type: "string", short: "o" },
  };
  for (const f of [...LIST_FLAGS, ...NUMBER_FLAGS, ...STRING_FLAGS]) options[f] = { type: "string" };
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options });
  const [kind, name, ...rest] = positionals;
  if (kind !== "cluster") throw new UsageError(`create takes \`cluster NAME\` (got ${JSON.stringify(kind ?? "")})`);
  if (!name || rest.length > 0) throw new UsageError("create cluster takes one cluster name");
  // The name becomes a path in the store: checked before anything is read there.
  const nameProblems = clusterNameProblems(name);
  if (nameProblems.length > 0) throw validationError(name.slice(0, 80), nameProblems);
  if (values.output !== undefined && values.output !== "yaml") throw new UsageError("-o takes yaml");
  if (values.output && !values["dry-run"]) throw new UsageError("-o yaml goes with --dry-run");

  const opts: Record<string, unknown> = {};
  for (const f of LIST_FLAGS) if (values[f] !== undefined) opts[camel(f)] = String(values[f]).split(",").map((z) => z.trim()).filter(Boolean);
  for (const f of NUMBER_FLAGS) {
    if (values[f] === undefined) continue;
    const n = Number(values[f]);
    if (!Number.isInteger(n)) throw new UsageError(`--${f} must be a whole number (got ${String(values[f])})`);
    opts[camel(f)] = n;
  }
  for (const f of STRING_FLAGS) if (values[f] !== undefined) opts[camel(f)] = values[f];
  const problems = checkOptions(opts as ClusterOptions);
  if (problems.length > 0) throw new UsageError(problems.map((p) => `--${p.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${p.message}`).join("; "));
  const spec = (setOverlay((values.set as string[] | undefined) ?? []).spec ?? undefined) as Record<string, unknown> | undefined;

  const storeUrl = stateStore(values.state as string | undefined, io.env);
  const store = new ClusterStore(openStore(storeUrl, io.env, io.stderr));
  const request = { name, storeUrl, ...(Object.keys(opts).length ? { options: opts as ClusterOptions } : {}), ...(spec ? { spec } : {}) };
  const plan = await planCluster(store, request);
  if (plan.problems.length > 0) throw validationError(name, plan.problems);
  const c = colours(io);
  const lines = describeChanges(plan);
  io.stdout.write(`${c.bold(plan.existed ? `Merging into cluster ${name}` : `Creating cluster ${name}`)} in ${storeUrl}\n`);
  io.stdout.write(lines.length ? `${lines.map((l) => `  ${l}`).join("\n")}\n` : "  no changes\n");
  if (values["dry-run"]) {
    if (values.output === "yaml") io.stdout.write(plan.files.filter((f) => f.doc).map((f) => stringifyYaml(f.doc!)).join("---\n"));
    io.stdout.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  if (lines.length === 0) return EXIT.ok;
  await applyCluster(store, request);
  io.stdout.write(`${c.green("Written")}: ${plan.changes.length} document(s) of ${name}.\n`);
  return EXIT.ok;
}
