/** `kstate create ig` and `kstate delete ig`: an instance group added or removed from the command line. */
import { parseArgs } from "node:util";
import { applyDocuments, checkPlan, planDocuments } from "../../ops/documents";
import { newInstanceGroup } from "../../ops/instance-group";
import { describeChanges, timestamp } from "../../ops/plan";
import { validationError } from "../../ops/validate";
import { readPolicyAhead } from "../../store/policy-guard";
import { AlreadyExistsError, NotFoundError } from "../../vfs/errors";
import { clusterName } from "../cluster-name";
import { formatDocuments } from "../document-output";
import { colours, confirm, EXIT, type Io, UsageError } from "../io";
import { openClusterStore } from "../open-store";

export const CREATE_IG_HELP = `Usage: kstate create ig GROUP [--name CLUSTER] [--role Node|ControlPlane|Bastion|APIServer]
         [--subnet S1,S2] [--zone Z1,Z2] [--machine-type TYPE] [--image IMAGE] [--min N] [--max N]
         [--dry-run [-o yaml|json]] [--state URL]
       kstate create instancegroup GROUP …   (the same)

Adds instance group GROUP to the cluster (--name, else KOPS_CLUSTER_NAME), filled in as kops create
instancegroup does: role Node unless --role; the cluster's subnets unless --subnet (a control-plane
group must name them); kops's machine type and image for the cloud; 1 instance for a control plane
or bastion, 2 for nodes, unless --min/--max. The cluster is validated with the group in place;
nothing is written if it is not valid or the group exists. --dry-run shows the change (-o prints
the document). Edit it afterwards with kstate edit ig.
`;

export const DELETE_IG_HELP = `Usage: kstate delete ig GROUP [--name CLUSTER] [--yes] [--state URL]
       kstate delete instancegroup GROUP …   (the same)

Deletes instance group GROUP's document from the store, after showing it and asking (or --yes).
Refused while an etcd member runs in the group, or when the cluster would be left without a
control-plane or node group. kstate changes only the state store: the group's instances keep
running until the cloud side is updated (kops update cluster --yes removes them).
`;

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} takes a whole number (got ${JSON.stringify(value)})`);
  return Number(value);
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean));

export async function createInstanceGroup(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      name: { type: "string" }, state: { type: "string" }, role: { type: "string" }, subnet: { type: "string" }, zone: { type: "string" },
      "machine-type": { type: "string" }, image: { type: "string" }, min: { type: "string" }, max: { type: "string" },
      "dry-run": { type: "boolean" }, output: { type: "string", short: "o" },
    },
  });
  const [, group, ...rest] = positionals;
  if (!group || rest.length > 0) throw new UsageError("create ig takes one group name: kstate create ig GROUP --name CLUSTER");
  if (values.output !== undefined && !values["dry-run"]) throw new UsageError("-o goes with --dry-run");
  if (values.output !== undefined && values.output !== "yaml" && values.output !== "json") throw new UsageError(`-o must be yaml or json (got ${values.output})`);
  const cluster = clusterName("create ig", undefined, values.name, io.env);
  const store = openClusterStore(values.state, io.env, io);
  // One reading of the cluster: the plan's, the check that the group is new, and the write's base.
  if (!values["dry-run"]) readPolicyAhead(store.root);
  const read = await store.readCluster(cluster);
  const config = read.config ?? store.noSuchCluster(cluster);
  if (read.groups.has(group)) throw new AlreadyExistsError(`instance group ${JSON.stringify(group)} of ${cluster} exists already in ${store.root.url}; change it with kstate edit ig ${group} --name ${cluster}`);
  const made = newInstanceGroup(config.doc.toJS() as Record<string, unknown>, group, {
    ...(values.role !== undefined ? { role: values.role } : {}),
    ...(values.subnet !== undefined ? { subnets: list(values.subnet)! } : {}),
    ...(values.zone !== undefined ? { zones: list(values.zone)! } : {}),
    ...(values["machine-type"] !== undefined ? { machineType: values["machine-type"] } : {}),
    ...(values.image !== undefined ? { image: values.image } : {}),
    ...(values.min !== undefined ? { minSize: count("--min", values.min)! } : {}),
    ...(values.max !== undefined ? { maxSize: count("--max", values.max)! } : {}),
  }, timestamp(new Date()));
  if ("problem" in made) throw validationError(cluster, [{ file: `instancegroup/${group}`, ...made.problem }]);
  const plan = await planDocuments(store, { name: cluster, edits: [{ file: `instancegroup/${group}`, content: made.doc, basedOn: "absent" }] }, new Date(), read);
  checkPlan(store, plan);
  const human = values.output ? io.stderr : io.stdout;
  human.write(`${colours(io, values.output ? "stderr" : "stdout").bold(`Cluster ${cluster}`)} in ${store.root.url}\n${describeChanges(plan).map((l) => `  ${l}`).join("\n")}\n`);
  if (values["dry-run"]) {
    if (values.output) io.stdout.write(formatDocuments([plan.files[0]!.doc!], values.output as "yaml" | "json"));
    human.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  await applyDocuments(store, plan);
  io.stdout.write(`${colours(io).green("Created")} instance group ${group} of ${cluster}.\n`);
  return EXIT.ok;
}

export async function deleteInstanceGroup(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" }, yes: { type: "boolean", short: "y" } },
  });
  const [, group, ...rest] = positionals;
  if (!group || rest.length > 0) throw new UsageError("delete ig takes one group name: kstate delete ig GROUP --name CLUSTER");
  const cluster = clusterName("delete ig", undefined, values.name, io.env);
  const store = openClusterStore(values.state, io.env, io);
  readPolicyAhead(store.root);
  const read = await store.readCluster(cluster);
  if (!read.config) store.noSuchCluster(cluster);
  const stored = read.groups.get(group);
  if (!stored) throw new NotFoundError(`instance group ${JSON.stringify(group)} of ${cluster} not found in ${store.root.url}`, { url: store.instanceGroupPath(cluster, group).url });
  const plan = await planDocuments(store, { name: cluster, edits: [{ file: `instancegroup/${group}`, content: null, basedOn: stored.revision }] }, new Date(), read);
  checkPlan(store, plan);
  const c = colours(io);
  io.stdout.write(`${c.bold(`Cluster ${cluster}`)} in ${store.root.url}\n${describeChanges(plan).map((l) => `  ${l}`).join("\n")}\n`);
  io.stdout.write(`kstate deletes the document only: the group's instances keep running until the cloud side is updated (kops update cluster --yes).\n`);
  if (!values.yes && !(await confirm(io, `Delete instance group ${group}?`, "delete the instance group"))) return EXIT.failure;
  await applyDocuments(store, plan);
  io.stdout.write(`${c.green("Deleted")} instance group ${group} of ${cluster}.\n`);
  return EXIT.ok;
}
