/** `kstate update cluster`: kops's update run against the store, as the ClusterUpdate resource runs it. */
import { parseArgs } from "node:util";
import { parseGoDuration } from "../../ops/duration";
import { describeTasks, readyKops, requireCluster, runUpdate, updateArgs } from "../../ops/kops-update";
import { clusterName } from "../cluster-name";
import { colours, EXIT, type Io, UsageError } from "../io";
import { openUrl, readsOnly, stateStore } from "../open-store";

export const UPDATE_HELP = `Usage: kstate update cluster [NAME] [--yes] [--target direct|terraform --out DIR] [--kops PATH] [--state URL]

Runs kops's \`update cluster\` against the store: without --yes, kops's dry run (what it would
create, change or delete in the cloud); with --yes, the update itself, which also writes the files
nodes boot from into the store (cluster-completed.spec, igconfig/, addons/, the CA keysets) and,
as kops does, sets your kubectl context to the cluster. --target terraform is no dry run: kops
writes kubernetes.tf and those same files into the store (apply the Terraform to change the
cloud). kops
prints as it goes; kstate finds the binary, and before it runs refuses one older than the kops
that last updated the cluster (kops-version.txt), a cluster the store does not hold, and files
kops reads that kstate's client-side encryption sealed; it stops kops when a task keeps failing
instead of letting it retry for ten minutes. kops reaches the store and the cloud through this command's environment
(S3_ENDPOINT, AWS_*, …), as when you run it yourself.

Options:
  --yes                       apply the changes (default: dry run)
  --target direct|terraform   direct (default) changes the cloud; terraform writes kubernetes.tf
                              and its data files into --out DIR instead (and the keysets into
                              the store)
  --out DIR                   the terraform target's folder
  --kops PATH                 the kops binary (default: kops on PATH)
  --lifecycle-overrides T=L,… kops's lifecycle overrides (e.g. SecurityGroup=ExistsAndWarnIfChanges)
  --allow-kops-downgrade      run a kops older than the one that last updated the cluster
  --prune                     delete cloud resources the cluster no longer uses (kops's --prune)
  --fail-after DURATION       stop kops when a task has kept failing this long (default 3m)
  --state URL                 the store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, ~/.kops.yaml)
  --name NAME                 the cluster, instead of the argument (default: KOPS_CLUSTER_NAME)

Exit codes: 0 kops ran (and, with --yes, applied), 1 kops failed or was stopped, 2 usage error,
4 nothing to do (a dry run where kops says "No changes need to be applied"). Stopping kstate
(Ctrl-C) stops kops too.
`;

export async function updateCluster(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      yes: { type: "boolean", short: "y" }, target: { type: "string" }, out: { type: "string" }, kops: { type: "string" },
      "lifecycle-overrides": { type: "string" }, "allow-kops-downgrade": { type: "boolean" }, prune: { type: "boolean" },
      "fail-after": { type: "string" }, state: { type: "string" }, name: { type: "string" },
    },
  });
  if (positionals[0] !== "cluster") throw new UsageError(`kstate update ${positionals[0] ?? ""}: kstate updates clusters (kstate update cluster NAME)`);
  const name = clusterName("update cluster", positionals.slice(1), values.name, io.env);
  const target = values.target ?? "direct";
  if (target !== "direct" && target !== "terraform") throw new UsageError(`--target ${target}: kstate runs kops's direct and terraform targets`);
  if (target === "terraform" && !values.out) throw new UsageError("--target terraform needs --out DIR: the folder kops writes kubernetes.tf into");
  if (target !== "terraform" && values.out) throw new UsageError("--out goes with --target terraform");
  const lifecycleOverrides = lifecycleFlag(values["lifecycle-overrides"]);
  const failingTaskMs = values["fail-after"] === undefined ? undefined : usage(() => parseGoDuration(values["fail-after"]!, "--fail-after") * 1000);
  const state = stateStore(values.state, io.env);
  const mode = target === "terraform" ? "terraform" : values.yes ? "apply" : "preview";
  // kstate reads (kops-version.txt, the policy), and records an applied update's failure; kops writes.
  if (mode !== "apply") readsOnly(io.env);

  const root = openUrl(state, io.env);
  const [kops] = await Promise.all([readyKops(root, name, values.kops, io.env, values["allow-kops-downgrade"] === true), requireCluster(root.join(name), name)]);
  const c = colours(io, "stderr");
  io.stderr.write(`${c.dim(`kops ${kops.version} (${kops.path})`)}\n`);
  const result = await runUpdate({
    kops, state, name, mode, recordAt: root, ...(values.out ? { outDir: values.out } : {}),
    ...(lifecycleOverrides ? { lifecycleOverrides } : {}),
    allowKopsDowngrade: values["allow-kops-downgrade"] === true, prune: values.prune === true,
    env: io.env, ...(failingTaskMs !== undefined ? { failingTaskMs } : {}),
    onLine: (line, stream) => io[stream].write(`${line}\n`),
  });
  if (result.noChanges) return EXIT.nothingToDo;
  if (mode === "preview") io.stderr.write(`${c.dim(`${describeTasks(result).length} task change(s); run with --yes to apply them`)}\n`);
  return EXIT.ok;
}

function lifecycleFlag(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of text.split(",").filter(Boolean)) {
    const [task, lifecycle, more] = pair.split("=");
    if (!task || !lifecycle || more !== undefined) throw new UsageError(`--lifecycle-overrides: ${JSON.stringify(pair)} is not TASK=LIFECYCLE`);
    out[task] = lifecycle;
  }
  usage(() => updateArgs({ name: "x", state: "file:///x", mode: "preview", lifecycleOverrides: out }));
  return out;
}

/** A flag's value checked by the ops road: its refusal is a usage error (exit 2), before anything runs. */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^lifecycleOverrides/, "--lifecycle-overrides"));
  }
}
