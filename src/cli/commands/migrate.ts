import { parseArgs } from "node:util";
import { applySync, firstOf, keptSourceEnding, movedAndSourceDeleted, nestedStores, planSync, samePlan, sourceKeptBecause, type SyncResult } from "../../ops/migrate";
import { readFailedUpdate } from "../../ops/failed-update";
import { describeCarried } from "../../ops/migrate-policy";
import { colours, EXIT, formatBytes, type Io, confirm, UsageError } from "../io";
import { ConflictError } from "../../vfs/errors";
import { clusterName } from "../cluster-name";
import { ProgressReporter } from "../progress";
import { openUrl, readsOnly, stateStore } from "../open-store";

export const MIGRATE_HELP = `Usage: kstate migrate [NAME] --to URL [--from URL] [--delete-source] [--concurrency N] [--dry-run] [--yes]

Moves cluster NAME's state from one store to another: copies every file that is missing or
differs, points spec.configBase at the new store, verifies every file by hash, and deletes the
source only with --delete-source, only after verifying, and only once the cluster has been
updated against the new store (kops update cluster NAME --yes --state NEW-STORE, or kstate
update cluster, which writes cluster-completed.spec there naming the new spec.configBase);
before that, --delete-source copies and verifies and then fails, keeping the source. Once an
update has run there, the new store is the newer one: files it has are never overwritten,
files only the source has are still copied. Safe to run again after a failure or a kill: it
finishes the job without copying again what is already there. It never deletes at the
destination, and a destination that holds a cluster of the name keeps its documents: a copy
that would replace or add its config, an instance group, a secret or a key is refused (exit 3).

Files are copied as stored, sealed or not. Where the destination store records an encryption
policy (kstate encryption), files its patterns name must already be sealed at the source, else
nothing is copied. Where the source store records one and the destination none, the policy goes
with the cluster: it is recorded at the destination first, if no other cluster is there; with
other clusters there nothing is copied, until a policy is recorded at the destination.

Options:
  --from URL         the store the cluster is in (default: --state, KSTATE_STATE_STORE,
                     KOPS_STATE_STORE, kops_state_store in ~/.kops.yaml or --config FILE)
  --to URL           the store to move it to
  --delete-source    delete the source files after the destination verifies, once the
                     cluster has been updated against the new store
  --concurrency N    files in flight at once (default: when both stores are s3:// and the
                     server copies, waves of 256, each started together; else from 16, up
                     to 64 while more in flight copies faster, as against a store far away)
  --dry-run          show what would move, write nothing
  --yes              do not ask for confirmation
  --state URL        same as --from
  --name NAME        the cluster, instead of the argument (default: KOPS_CLUSTER_NAME)

Exit codes: 0 migrated, 1 failed, 2 usage error, 3 conflict, 4 nothing to do (already migrated).
`;

export async function migrate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: "string" }, state: { type: "string" }, to: { type: "string" },
      "delete-source": { type: "boolean" }, concurrency: { type: "string" }, "dry-run": { type: "boolean" }, yes: { type: "boolean", short: "y" },
      name: { type: "string" },
    },
  });
  const name = clusterName("migrate", positionals, values.name, io.env);
  if (values.from !== undefined && values.state !== undefined && openUrl(values.from, io.env).url !== openUrl(values.state, io.env).url) throw new UsageError(`--from ${values.from} and --state ${values.state} name two stores: give one (--state is the same as --from)`);
  // The source is found as every command finds its store (kops's config file included).
  const fromUrl = stateStore(values.from ?? values.state, io.env, "--from");
  if (!values.to) throw new UsageError("--to URL is required: the store to move the cluster to");
  const concurrency = values.concurrency === undefined ? undefined : /^[0-9]+$/.test(values.concurrency) ? Number(values.concurrency) : NaN;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)) throw new UsageError(`--concurrency must be a whole number from 1 to 256 (got ${values.concurrency})`);
  if (values["dry-run"]) readsOnly(io.env);
  const source = openUrl(fromUrl, io.env).join(name);
  const destination = openUrl(values.to, io.env).join(name);
  if (source.url === destination.url) throw new UsageError("--from and --to are the same store");
  const nested = nestedStores(source.url, destination.url);
  if (nested) throw new UsageError(`--to: ${nested}`);
  const c = colours(io);

  // The stores' policies are read beside the listings; what is shown is what is applied.
  const destinationStore = openUrl(values.to, io.env);
  const deleteSource = values["delete-source"] === true;
  const makePlan = () => planSync(source, destination, {
    concurrency, deleteSource, stores: { source: openUrl(fromUrl, io.env), destination: destinationStore },
    destinationFailedUpdate: deleteSource ? readFailedUpdate(destinationStore, name) : undefined,
  });
  const planned = await makePlan().catch(async (e: unknown) => {
    // The same move run again after it deleted its source: the cluster is at the destination alone.
    if (deleteSource && await movedAndSourceDeleted(e, source, destination)) return undefined;
    throw e;
  });
  if (planned === undefined) {
    io.stdout.write(`Nothing to do: ${name} is already at ${destination.url}, and its source ${source.url} was deleted.\n`);
    return EXIT.nothingToDo;
  }
  const plan = planned.result;
  io.stdout.write(`${c.bold(`Migrate ${name}`)}\n  from ${source.url}\n  to   ${destination.url}\n`);
  io.stdout.write(`  copy ${plan.filesCopied} of ${plan.filesTotal} files (${formatBytes(plan.bytesCopied)} of ${formatBytes(plan.bytesTotal)}); ${plan.filesAlreadyThere} already there\n`);
  io.stdout.write(`  spec.configBase at the destination: ${plan.configBase}\n`);
  if (plan.carriedPolicy) io.stdout.write(`  ${describeCarried(plan.carriedPolicy)}\n`);
  if (plan.replacedAtDestination.length > 0) io.stdout.write(`  ${c.yellow(`${plan.replacedAtDestination.length} file(s) at the destination differ from the source's and are replaced:`)} ${firstOf(plan.replacedAtDestination)}\n`);
  if (plan.extraAtDestination.length > 0) io.stdout.write(`  ${c.yellow(`${plan.extraAtDestination.length} file(s) at the destination are not in the source; they are kept:`)} ${firstOf(plan.extraAtDestination)}\n`);
  if (values["delete-source"] && plan.divergedDocuments.length > 0) io.stdout.write(`  ${c.yellow(`${keptSourceEnding(plan, "the run")}: ${plan.divergedDocuments.length} document(s) differ between the stores (one changed after the copy):`)} ${firstOf(plan.divergedDocuments)}\n`);
  if (plan.keptAtDestination.length > 0) io.stdout.write(`  ${c.yellow(`${plan.keptAtDestination.length} file(s) at the destination are newer (the cluster was updated against it); they are kept, not overwritten:`)} ${firstOf(plan.keptAtDestination)}\n`);
  const kept = values["delete-source"] ? sourceKeptBecause(plan) : undefined;
  if (kept !== undefined) io.stdout.write(`  ${c.yellow(`${keptSourceEnding(plan, "the run")}: ${kept.reason}`)}\n  run \`${kept.run}\` (or \`${kept.orRun}\`${kept.orThen ? ` and then ${kept.orThen}` : ""}) first, then migrate again with --delete-source\n`);
  else if (values["delete-source"] && plan.divergedDocuments.length === 0) io.stdout.write(`  ${c.yellow(`then delete the ${plan.filesTotal} source files`)}\n`);
  const nothingToDo = plan.filesCopied === 0 && !plan.carriedPolicy && !values["delete-source"];
  if (values["dry-run"]) {
    // A run that would fail (the source kept though its deletion was asked) fails its dry run too.
    const wouldFail = values["delete-source"] === true && (kept !== undefined || plan.divergedDocuments.length > 0);
    io.stdout.write(wouldFail ? `Dry run: nothing was written; the run would ${plan.filesCopied > 0 ? "copy and then fail" : "fail"}, keeping the source (above).\n` : nothingToDo ? "Nothing to do: the destination already has everything.\n" : "Dry run: nothing was written.\n");
    return wouldFail ? EXIT.failure : nothingToDo ? EXIT.nothingToDo : EXIT.ok;
  }
  if (!values.yes) {
    if (!(await confirm(io, "Proceed?", "migrate"))) return EXIT.failure;
    // The stores may have changed while the question waited: only the plan shown is carried out
    // (planned again, a cluster that appeared at the destination is refused here, nothing written).
    if (!samePlan(planned, await makePlan())) throw new ConflictError(`migrate ${source.url} -> ${destination.url}: the stores changed while the confirmation waited, so the plan shown is no longer what would be done; nothing was written. Run it again to see the new plan.`, { url: destination.url });
  }
  const progress = new ProgressReporter(io, "copying");
  let result: SyncResult;
  try {
    result = await applySync(planned, {
      concurrency,
      deleteSource: values["delete-source"] === true,
      deleteAgainHint: "migrate again with --delete-source",
      onProgress: (p) => progress.update(p),
    });
  } finally {
    // A failure's message goes on a line of its own, and the bar is not drawn again after it.
    progress.finish();
  }
  io.stdout.write(`${c.green("Migrated")} ${name}: ${result.filesCopied} file(s) copied (${formatBytes(result.bytesCopied)}${result.serverSideCopies ? `, ${result.serverSideCopies} by the server` : ""}), ${result.filesTotal - result.keptAtDestination.length} verified${result.keptAtDestination.length ? `, ${result.keptAtDestination.length} newer at the destination kept` : ""}${result.carriedPolicy ? ", the source store's encryption policy recorded there" : ""}${result.sourceDeleted ? ", source deleted" : ""}.\n`);
  io.stdout.write(`Point kops at the new store: export KOPS_STATE_STORE=${values.to}\n`);
  return nothingToDo ? EXIT.nothingToDo : EXIT.ok;
}
