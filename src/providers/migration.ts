import { syncCluster, type SyncResult } from "../ops/sync";
import { isDns1123Subdomain } from "../ops/validate";
import { canonicalUrl, NotFoundError, openPath, parseUrl, RefusedError } from "../vfs";
import { readPolicy } from "../store/encryption-policy";
import { KstateError } from "../vfs/errors";
import { containsUnknown, type ProviderImpl } from "./serialize";
import { configureFromStack } from "./stack-config";
import type * as pulumi from "@pulumi/pulumi";

export const MIGRATION_SCHEMA_VERSION = 1;

export interface MigrationInputs {
  clusterName: string;
  /** The store the cluster is in now. */
  source: string;
  /** The store it moves to. */
  destination: string;
  /** Delete the source files once the destination verifies (default off). */
  deleteSource?: boolean;
  /** Files in flight at once (default 16). */
  concurrency?: number;
  /** Set by `check`: what would move. */
  plan?: string[];
}

export interface MigrationOutputs extends Required<Omit<MigrationInputs, "plan">> {
  plan: string[];
  configBase: string;
  filesCopied: number;
  bytesCopied: number;
  verified: boolean;
  manifestHash: string;
  sourceDeleted: boolean;
  extraAtDestination: string[];
  schemaVersion: number;
}

type Normalized = Required<Omit<MigrationInputs, "plan">> & { plan?: string[] };

function folders(i: Pick<MigrationInputs, "source" | "destination" | "clusterName">) {
  return { source: openPath(i.source).join(i.clusterName), destination: openPath(i.destination).join(i.clusterName) };
}

export function checkMigration(news: Partial<MigrationInputs>): { inputs?: Normalized; failures: pulumi.dynamic.CheckFailure[] } {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  for (const k of ["source", "destination"] as const) {
    const v = news[k];
    if (typeof v !== "string" || v === "") fail(k, "required: a store URL (s3://bucket, gs://bucket, file:///dir)");
    else if (!containsUnknown(v)) {
      try {
        parseUrl(v);
      } catch (e) {
        fail(k, KstateError.isInstance(e) ? e.message : String(e));
      }
    }
  }
  if (typeof news.clusterName !== "string" || !isDns1123Subdomain(news.clusterName)) fail("clusterName", "required: the cluster's name, e.g. dev.k8s.example.com");
  if (failures.length === 0 && !containsUnknown(news.source) && !containsUnknown(news.destination) && canonicalUrl(news.source!) === canonicalUrl(news.destination!)) fail("destination", "is the same store as source");
  if (news.concurrency !== undefined && (!Number.isInteger(news.concurrency) || news.concurrency < 1 || news.concurrency > 256)) fail("concurrency", "must be a whole number from 1 to 256");
  if (news.deleteSource !== undefined && typeof news.deleteSource !== "boolean") fail("deleteSource", "must be true or false");
  if (failures.length > 0) return { failures };
  return {
    inputs: {
      clusterName: news.clusterName!,
      source: containsUnknown(news.source) ? news.source! : canonicalUrl(news.source!),
      destination: containsUnknown(news.destination) ? news.destination! : canonicalUrl(news.destination!),
      deleteSource: news.deleteSource ?? false,
      concurrency: news.concurrency ?? 16,
    },
    failures,
  };
}

function outputs(i: Normalized, r: SyncResult): MigrationOutputs {
  return {
    clusterName: i.clusterName, source: i.source, destination: i.destination, deleteSource: i.deleteSource, concurrency: i.concurrency,
    plan: i.plan ?? [], configBase: r.configBase, filesCopied: r.filesCopied, bytesCopied: r.bytesCopied, verified: r.verified,
    manifestHash: r.manifestHash, sourceDeleted: r.sourceDeleted, extraAtDestination: r.extraAtDestination, schemaVersion: MIGRATION_SCHEMA_VERSION,
  };
}

async function migrate(i: Normalized): Promise<MigrationOutputs> {
  const { source, destination } = folders(i);
  const destinationPolicy = (await readPolicy(openPath(i.destination)))?.policy;
  return outputs(i, await syncCluster(source, destination, { concurrency: i.concurrency, deleteSource: i.deleteSource, destinationPolicy }));
}

export const provider: ProviderImpl<MigrationInputs, MigrationOutputs> = {
  async configure(req) {
    configureFromStack(req);
  },

  /** Checks the inputs and, when both stores are known, works out what would move (reads only). */
  async check(olds, news) {
    const { inputs, failures } = checkMigration(news);
    if (!inputs) return { failures };
    if (containsUnknown(news)) return { inputs: { ...inputs, plan: ["(worked out at apply time: an input is not known yet)"] } };
    const previous = olds as Partial<MigrationOutputs>;
    if (previous.destination === inputs.destination && previous.source === inputs.source && previous.sourceDeleted) {
      return { inputs: { ...inputs, plan: ["already migrated; the source was deleted"] } };
    }
    const { source, destination } = folders(inputs);
    try {
      const destinationPolicy = (await readPolicy(openPath(inputs.destination)))?.policy;
      const r = await syncCluster(source, destination, { dryRun: true, concurrency: inputs.concurrency, destinationPolicy });
      const plan = [`copy ${r.filesCopied} of ${r.filesTotal} files (${r.bytesCopied} of ${r.bytesTotal} bytes) from ${source.url} to ${destination.url}`];
      if (r.extraAtDestination.length > 0) plan.push(`${r.extraAtDestination.length} file(s) at the destination are not in the source; they are kept`);
      if (inputs.deleteSource) plan.push(`then delete the ${r.filesTotal} source files`);
      return { inputs: { ...inputs, plan } };
    } catch (e) {
      return { failures: [{ property: "source", reason: e instanceof Error ? e.message : String(e) }] };
    }
  },

  async diff(_id, olds, news) {
    const same = (a: string, b: string) => (containsUnknown(b) ? false : canonicalUrl(a) === canonicalUrl(b));
    const replaces = [
      ...(olds.clusterName !== news.clusterName ? ["clusterName"] : []),
      ...(!same(olds.source, news.source) ? ["source"] : []),
      ...(!same(olds.destination, news.destination) ? ["destination"] : []),
    ];
    const changed = (["deleteSource", "concurrency"] as const).filter((k) => olds[k] !== news[k]);
    // A destination found missing by refresh (`verified: false`) is copied again.
    return { changes: replaces.length + changed.length > 0 || olds.verified === false, replaces, deleteBeforeReplace: false };
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
    console.log(`StateStoreMigration of ${props.clusterName}: deleting the resource does not move the state back; it stays in ${props.destination}.`);
  },
};
