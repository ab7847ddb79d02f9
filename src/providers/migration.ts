import { firstOf, keptSourceEnding, movedAndSourceDeleted, nestedStores, sourceKeptBecause, syncCluster, type SyncResult } from "../ops/migrate";
import { describeCarried } from "../ops/migrate-policy";
import { readFailedUpdate } from "../ops/failed-update";
import { isDns1123Subdomain } from "../ops/validate";
import { canonicalUrl, NotFoundError, openPath, parseUrl, RefusedError, SCHEMES, type SchemeFacts } from "../vfs";
import { KstateError } from "../vfs/errors";
import { containsUnknown, outputNames, type ProviderImpl, sealedFailures } from "./serialize";
import { configureFromStack } from "./stack-config";
import { accessOf, accessProblems, isMissingBucket, type StoreAccess, storeSettingsOf } from "./store-access";
import type * as pulumi from "@pulumi/pulumi";
import { report } from "./report";

export const MIGRATION_SCHEMA_VERSION = 1;

export interface MigrationInputs {
  clusterName: string;
  /** The store the cluster is in now. */
  source: string;
  /** The store it moves to. */
  destination: string;
  /** How the source store is reached (endpoint, region, credentials), as a StateStore's inputs say it. */
  sourceSettings?: StoreAccess;
  /** How the destination store is reached. */
  destinationSettings?: StoreAccess;
  /**
   * Delete the source files once the destination verifies (default off), and only once the cluster
   * has been updated against the destination (its cluster-completed.spec names the new configBase);
   * before that, `up` copies and verifies and then fails, keeping the source.
   */
  deleteSource?: boolean;
  /**
   * Files in flight at once. Unset, the copy finds its own pace (waves of 256 when both stores
   * are s3:// and the server copies; else 16 at first, up to 64 while requests are slow), within
   * a memory budget (ops/copy-pace.ts). A change of it alone does not run a finished migration again.
   */
  concurrency?: number;
  /** Set by `check`: what would move. */
  plan?: string[];
}

type Settings = "sourceSettings" | "destinationSettings";

export interface MigrationOutputs extends Required<Omit<MigrationInputs, "plan" | "concurrency" | Settings>>, Pick<MigrationInputs, "concurrency" | Settings> {
  plan: string[];
  configBase: string;
  filesCopied: number;
  bytesCopied: number;
  verified: boolean;
  manifestHash: string;
  sourceDeleted: boolean;
  /** Why the source was kept though `deleteSource` is set (the cluster not updated against the destination yet); the next up after the update deletes it. */
  sourceKept?: string;
  extraAtDestination: string[];
  schemaVersion: number;
}

/** Output names, in one place for the provider and the resource class. */
export const MIGRATION_OUTPUTS = outputNames<MigrationOutputs>()(
  "clusterName", "source", "destination", "deleteSource", "concurrency", "plan", "configBase", "filesCopied", "bytesCopied",
  "verified", "manifestHash", "sourceDeleted", "sourceKept", "extraAtDestination", "schemaVersion", "sourceSettings", "destinationSettings",
);

type Normalized = Required<Omit<MigrationInputs, "plan" | "concurrency" | Settings>> & Pick<MigrationInputs, "concurrency" | Settings> & { plan?: string[] };

/** The source or destination store's root. */
function storeAt(i: Pick<MigrationInputs, "source" | "destination" | Settings>, end: "source" | "destination") {
  return openPath(i[end], storeSettingsOf(accessOf(i[`${end}Settings`])));
}

function stores(i: Pick<MigrationInputs, "source" | "destination" | Settings>) {
  return { source: storeAt(i, "source"), destination: storeAt(i, "destination") };
}

function folders(i: Pick<MigrationInputs, "source" | "destination" | "clusterName" | Settings>) {
  return { source: storeAt(i, "source").join(i.clusterName), destination: storeAt(i, "destination").join(i.clusterName) };
}

export function checkMigration(news: Partial<MigrationInputs>): { inputs?: Normalized; failures: pulumi.dynamic.CheckFailure[] } {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  for (const k of ["source", "destination"] as const) {
    const v = news[k];
    let scheme: SchemeFacts | undefined;
    if (typeof v !== "string" || v === "") fail(k, "required: a store URL (s3://bucket, gs://bucket, file:///dir)");
    else if (!containsUnknown(v)) {
      try {
        scheme = SCHEMES[parseUrl(v).scheme];
        if (scheme.kopsReaches !== true) fail(k, `a migration moves a store kops reads, and kops cannot reach a ${scheme.scheme}:// store (${scheme.kopsReaches})`);
      } catch (e) {
        fail(k, KstateError.isInstance(e) ? e.message : String(e));
      }
    }
    const settings: unknown = news[`${k}Settings`];
    if (settings === undefined || containsUnknown(settings)) continue;
    if (typeof settings !== "object" || settings === null || Array.isArray(settings)) fail(`${k}Settings`, "must be an object: { endpoint?, region?, project?, accessKeyId?, secretAccessKey?, sessionToken? }");
    else failures.push(...accessProblems(settings, scheme, `${k}Settings.`));
  }
  if (typeof news.clusterName !== "string" || !isDns1123Subdomain(news.clusterName)) fail("clusterName", "required: the cluster's name, e.g. dev.k8s.example.com");
  if (failures.length === 0 && !containsUnknown(news.source) && !containsUnknown(news.destination)) {
    if (canonicalUrl(news.source!) === canonicalUrl(news.destination!)) fail("destination", "is the same store as source");
    else {
      const folder = (store: string) => `${canonicalUrl(store).replace(/\/$/, "")}/${news.clusterName}`;
      const nested = nestedStores(folder(news.source!), folder(news.destination!));
      if (nested) fail("destination", nested);
    }
  }
  if (news.concurrency !== undefined && (!Number.isInteger(news.concurrency) || news.concurrency < 1 || news.concurrency > 256)) fail("concurrency", "must be a whole number from 1 to 256");
  if (news.deleteSource !== undefined && typeof news.deleteSource !== "boolean") fail("deleteSource", "must be true or false");
  if (failures.length > 0) return { failures };
  return {
    inputs: {
      clusterName: news.clusterName!,
      source: containsUnknown(news.source) ? news.source! : canonicalUrl(news.source!),
      destination: containsUnknown(news.destination) ? news.destination! : canonicalUrl(news.destination!),
      deleteSource: news.deleteSource ?? false,
      ...(news.concurrency !== undefined ? { concurrency: news.concurrency } : {}),
      ...settingsOf(news),
    },
    failures,
  };
}

/** The settings inputs given, as given. */
function settingsOf(i: Pick<MigrationInputs, Settings>): Pick<MigrationInputs, Settings> {
  return {
    ...(i.sourceSettings !== undefined ? { sourceSettings: i.sourceSettings } : {}),
    ...(i.destinationSettings !== undefined ? { destinationSettings: i.destinationSettings } : {}),
  };
}

function outputs(i: Normalized, r: SyncResult): MigrationOutputs {
  return {
    ...settingsOf(i),
    clusterName: i.clusterName, source: i.source, destination: i.destination, deleteSource: i.deleteSource,
    ...(i.concurrency !== undefined ? { concurrency: i.concurrency } : {}),
    plan: i.plan ?? [], configBase: r.configBase, filesCopied: r.filesCopied, bytesCopied: r.bytesCopied, verified: r.verified,
    manifestHash: r.manifestHash, sourceDeleted: r.sourceDeleted, ...(r.sourceKept ? { sourceKept: r.sourceKept } : {}), extraAtDestination: r.extraAtDestination, schemaVersion: MIGRATION_SCHEMA_VERSION,
  };
}

async function migrate(i: Normalized): Promise<MigrationOutputs> {
  const { source, destination } = folders(i);
  const r = await syncCluster(source, destination, {
    concurrency: i.concurrency, deleteSource: i.deleteSource, stores: stores(i), deleteAgainHint: "run `pulumi up` again", untilUpdated: "keep",
    destinationFailedUpdate: i.deleteSource ? readFailedUpdate(storeAt(i, "destination"), i.clusterName) : undefined,
  });
  // Kept, not refused: a ClusterUpdate after this migration in the same program must still run.
  if (r.sourceKept) report(`${i.clusterName}: the source ${r.source} is kept: ${r.sourceKept}`);
  return outputs(i, r);
}

export const provider: ProviderImpl<MigrationInputs, MigrationOutputs> = {
  async configure(req) {
    configureFromStack(req);
  },

  /** Checks the inputs and, when both stores are known, works out what would move (reads only). */
  async check(olds, news) {
    const { inputs, failures } = checkMigration(news);
    // The engine prints the value of a property a failure names: never a secret access key's.
    if (!inputs) return { failures: sealedFailures(failures, ["sourceSettings", "destinationSettings"]) };
    if (containsUnknown(news)) return { inputs: { ...inputs, plan: ["(worked out at apply time: an input is not known yet)"] } };
    const previous = olds as Partial<MigrationOutputs>;
    if (previous.destination === inputs.destination && previous.source === inputs.source && previous.sourceDeleted) {
      return { inputs: { ...inputs, plan: ["already migrated; the source was deleted"] } };
    }
    const { source, destination } = folders(inputs);
    try {
      const r = await syncCluster(source, destination, {
        dryRun: true, concurrency: inputs.concurrency, stores: stores(inputs), deleteSource: inputs.deleteSource,
        destinationFailedUpdate: inputs.deleteSource ? readFailedUpdate(storeAt(inputs, "destination"), inputs.clusterName) : undefined,
      });
      const plan = [`copy ${r.filesCopied} of ${r.filesTotal} files (${r.bytesCopied} of ${r.bytesTotal} bytes) from ${source.url} to ${destination.url}`];
      if (r.carriedPolicy) plan.push(describeCarried(r.carriedPolicy));
      if (r.replacedAtDestination.length > 0) plan.push(`${r.replacedAtDestination.length} file(s) at the destination differ from the source's and are replaced: ${firstOf(r.replacedAtDestination)}`);
      if (r.extraAtDestination.length > 0) plan.push(`${r.extraAtDestination.length} file(s) at the destination are not in the source; they are kept`);
      if (inputs.deleteSource && r.divergedDocuments.length > 0) plan.push(`${keptSourceEnding(r, "up")}: ${r.divergedDocuments.length} document(s) differ between the stores (one changed after the copy): ${firstOf(r.divergedDocuments)}`);
      if (r.keptAtDestination.length > 0) plan.push(`${r.keptAtDestination.length} file(s) at the destination are newer (the cluster was updated against it); they are kept, not overwritten`);
      const kept = inputs.deleteSource ? sourceKeptBecause(r) : undefined;
      if (kept !== undefined) plan.push(`the source will be kept (up copies and verifies, and succeeds): ${kept.reason}`, `update the cluster against the new store (a ClusterUpdate resource on it, or \`${kept.run}\`), and the next up deletes the source`);
      else if (inputs.deleteSource && r.divergedDocuments.length === 0) plan.push(`then delete the ${r.filesTotal} source files`);
      // Shown in the preview's log too, not only in the plan property (which only --diff shows).
      report(plan.map((l) => `${inputs.clusterName}: ${l}`).join("\n"));
      return { inputs: { ...inputs, plan } };
    } catch (e) {
      // A destination bucket the same program creates is not there in a preview: the copy is worked out at up.
      if (await isMissingBucket(storeAt(inputs, "destination"), e)) {
        return { inputs: { ...inputs, plan: [`${inputs.destination}: the bucket does not exist yet (this program creates it, or it must exist before up); every file of ${source.url} is copied at up`] } };
      }
      // A migration that deleted its source: check sees old inputs (not `sourceDeleted`), so it
      // finds the source gone and the cluster at the destination.
      const same = previous.deleteSource === true && previous.source === inputs.source && previous.destination === inputs.destination;
      if (same && await movedAndSourceDeleted(e, source, destination)) {
        return { inputs: { ...inputs, plan: ["already migrated; the source was deleted"] } };
      }
      const property = KstateError.isInstance(e) && e.url?.startsWith(inputs.destination) ? "destination" : "source";
      return { failures: [{ property, reason: e instanceof Error ? e.message : String(e) }] };
    }
  },

  async diff(_id, olds, news) {
    const same = (a: string, b: string) => (containsUnknown(b) ? false : canonicalUrl(a) === canonicalUrl(b));
    const replaces = [
      ...(olds.clusterName !== news.clusterName ? ["clusterName"] : []),
      ...(!same(olds.source, news.source) ? ["source"] : []),
      ...(!same(olds.destination, news.destination) ? ["destination"] : []),
    ];
    const changed = [
      ...(olds.deleteSource !== news.deleteSource ? ["deleteSource"] : []),
      ...(["sourceSettings", "destinationSettings"] as const).filter((k) => JSON.stringify(accessOf(olds[k])) !== JSON.stringify(accessOf(news[k]))),
    ];
    // A destination found missing by refresh (`verified: false`) is copied again; a source kept
    // until the cluster was updated against the destination is pending until it goes.
    const pending = olds.verified === false || (news.deleteSource === true && olds.deleteSource === true && olds.sourceDeleted === false);
    return { changes: replaces.length + changed.length > 0 || pending, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const outs = await migrate(inputs as Normalized);
    return { id: `${inputs.source}/${inputs.clusterName}->${inputs.destination}`, outs };
  },

  /** Looks at the destination: if its config is gone, the migration no longer holds, and the next `up` copies again. */
  async read(id, props) {
    const { destination } = folders(props!);
    const present = await destination.join("config").stat().then(() => true, (e: unknown) => {
      if (NotFoundError.isInstance(e)) return false;
      throw e;
    });
    return { id, props: present ? props! : { ...props!, verified: false } };
  },

  async update(_id, olds, news) {
    if (olds.sourceDeleted && canonicalUrl(olds.destination) === canonicalUrl(news.destination)) {
      if (olds.verified === false) {
        throw new RefusedError(`${olds.clusterName}: its config is gone from ${olds.destination}, and the source ${olds.source} was deleted after the migration; there is nothing left to copy from. Restore the destination from its bucket's old versions (\`kstate history\`), then run \`pulumi refresh\`.`, { url: olds.destination });
      }
      return { outs: { ...olds, ...(news as Normalized), plan: news.plan ?? [] } };
    }
    return { outs: await migrate(news as Normalized) };
  },

  async delete(_id, props) {
    // A migration is not undone: the cluster stays where it was moved to, and so does any copy.
    report(`StateStoreMigration of ${props.clusterName}: deleting the resource does not move the state back; it stays in ${props.destination}.`);
  },
};
