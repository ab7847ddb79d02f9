/**
 * How a provider reaches a store: the inputs every kstate resource takes for it (StateStore,
 * ClusterConfig, and each end of a StateStoreMigration), completed from the stack's config and
 * from the provider process's environment, which is read here, at the providers' entry, and
 * nowhere below (src/vfs reads none).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ClusterEncryption } from "../store/secrets";
import { bucketAdmin, type Environment, KstateError, parseUrl, resolveKmsSettings, resolveStoreSettings, SCHEMES, type SchemeFacts, type StoreSettings, type VfsPath } from "../vfs";
import { listSchemes, schemesWhere } from "../vfs/schemes";
import { stackConfig } from "./stack-config";

// The AWS SDK's notice about future Node versions is noise for kstate's users, who do not pick
// it; the SDK reads this switch from the environment only.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Where a store is and who is asking; each is optional, and the environment fills in the rest. */
export interface StoreAccess {
  /** An S3-compatible or GCS-emulator endpoint; default `S3_ENDPOINT` (s3://) or `STORAGE_EMULATOR_HOST` (gs://). */
  endpoint?: string;
  /** The bucket's region (S3) or location (GCS); default `S3_REGION` with an endpoint, else asked of the bucket. */
  region?: string;
  /** The Google Cloud project (gs://); default the stack's `gcp:project`, else `GOOGLE_CLOUD_PROJECT`. */
  project?: string;
  /** Static S3 credentials (s3://); default `S3_ACCESS_KEY_ID` with an endpoint, `AWS_ACCESS_KEY_ID`, else the AWS SDK's chain. */
  accessKeyId?: string;
  /** Its secret (a Pulumi secret in state). */
  secretAccessKey?: string;
  /** A session token for temporary credentials (a Pulumi secret in state). */
  sessionToken?: string;
}

export const STORE_ACCESS_KEYS = ["endpoint", "region", "project", "accessKeyId", "secretAccessKey", "sessionToken"] as const satisfies readonly (keyof StoreAccess)[];

/** The inputs among them that are secrets: sealed in state, never printed beside a check failure. */
export const SECRET_ACCESS_KEYS = ["secretAccessKey", "sessionToken"] as const;

/** The access inputs `from` holds, and nothing else. */
export function accessOf(from: Partial<StoreAccess> | undefined): StoreAccess {
  const out: StoreAccess = {};
  for (const k of STORE_ACCESS_KEYS) if (from?.[k] !== undefined) out[k] = from[k];
  return out;
}

/** Problems with the access inputs for a store of `scheme`, each under `prefix` + its name. */
export function accessProblems(a: Partial<Record<keyof StoreAccess, unknown>>, scheme: SchemeFacts | undefined, prefix = ""): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: keyof StoreAccess, reason: string) => failures.push({ property: `${prefix}${property}`, reason });
  for (const k of STORE_ACCESS_KEYS) if (a[k] !== undefined && typeof a[k] !== "string") fail(k, "must be a string");
  if (failures.length > 0) return failures;
  if (a.endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(a.endpoint as string)) fail("endpoint", "must be an http:// or https:// URL");
  else if (a.endpoint !== undefined && /^https?:\/\/[^/]*@/.test(a.endpoint as string)) fail("endpoint", "must not hold credentials (they would be kept in plain text); give accessKeyId and secretAccessKey");
  if (a.endpoint !== undefined && scheme !== undefined && !scheme.endpoint) fail("endpoint", `${scheme.scheme}:// stores have no endpoint`);
  if (a.region !== undefined && !/^[a-z0-9-]+$/.test(a.region as string)) fail("region", "must look like us-east-1 or europe-west1");
  const keys = (["accessKeyId", "secretAccessKey", "sessionToken"] as const).filter((k) => a[k] !== undefined);
  if (keys.length > 0 && scheme !== undefined && !scheme.staticKeys) {
    const why = scheme.endpoint ? `${scheme.scheme}:// stores use their cloud's own credentials` : `${scheme.scheme}:// stores take no credentials`;
    fail(keys[0]!, `only ${listSchemes(schemesWhere((s) => s.staticKeys))} stores take static keys; ${why}`);
  } else {
    if ((a.accessKeyId === undefined) !== (a.secretAccessKey === undefined)) fail(a.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey", "give accessKeyId and secretAccessKey together");
    if (a.sessionToken !== undefined && a.accessKeyId === undefined) fail("sessionToken", "only used with accessKeyId and secretAccessKey");
  }
  if (a.project !== undefined && scheme !== undefined && !scheme.project) fail("project", `only ${listSchemes(schemesWhere((s) => s.project))} stores have a project`);
  return failures;
}

/**
 * The settings to open a store with: the inputs, then the stack's config, then `env` (the
 * provider process's environment), as settings.ts resolves them. The stack's `aws:region` is
 * where a bucket is asked for its region (as `AWS_REGION` is); a StateStore also takes it as its
 * bucket's region.
 */
export function storeSettingsOf(access: StoreAccess, env: Environment = process.env): StoreSettings {
  const stack = stackConfig();
  const project = access.project ?? stack.gcpProject;
  return resolveStoreSettings({
    s3: {
      ...(access.endpoint ? { endpoint: access.endpoint } : {}),
      ...(access.region ? { region: access.region } : {}),
      ...(stack.awsRegion ? { defaultRegion: stack.awsRegion } : {}),
      ...(access.accessKeyId && access.secretAccessKey ? { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey } : {}),
      ...(access.sessionToken ? { sessionToken: access.sessionToken } : {}),
    },
    gcs: { ...(access.endpoint ? { endpoint: access.endpoint } : {}), ...(project ? { projectId: project } : {}) },
  }, env);
}

/** Client-side encryption settings with AWS KMS reached as `env` says where the settings do not. */
export function withKmsDefaults(encryption: ClusterEncryption, env?: Environment): ClusterEncryption;
export function withKmsDefaults(encryption: ClusterEncryption | undefined, env?: Environment): ClusterEncryption | undefined;
export function withKmsDefaults(encryption: ClusterEncryption | undefined, env: Environment = process.env): ClusterEncryption | undefined {
  return encryption && { ...encryption, awsKms: resolveKmsSettings(encryption.awsKms, env) };
}

/**
 * Whether `error`, from reading the store at `root`, is its bucket not being there yet (a
 * program may create it in the same run): a store made by its first write never is.
 */
export async function isMissingBucket(root: VfsPath, error: unknown): Promise<boolean> {
  if (!KstateError.isInstance(error) || (error.code !== "Backend" && error.code !== "NotFound")) return false;
  if (SCHEMES[parseUrl(root.url).scheme].madeOnWrite) return false;
  return !(await bucketAdmin(root).settings().then((s) => s.exists, () => true));
}
