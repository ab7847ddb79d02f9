/**
 * How to reach a store: endpoint, region, credentials, project, server- and client-side
 * encryption, timeouts, retries. Resolved once by whoever opens the store (the CLI from `io.env`
 * and flags, a provider from its inputs, stack config and its process's environment) and handed
 * to `openPath`; code under src/vfs reads no environment itself.
 *
 * The settings hold one part per cloud (`s3`, `gcs`) because each has its own variables, and one
 * resolution serves both ends of a migration from S3 to GCS.
 */
import type { ClientSideEncryption } from "./encrypted";
import type { GcsOptions } from "./gcs/session";
import type { AwsKmsOptions } from "./kms";
import type { RetryPolicy } from "./retry";
import type { S3Options } from "./s3/session";

export interface StoreSettings {
  s3?: S3Options;
  gcs?: GcsOptions;
  /** Per request to a cloud backend: longest wait to connect and longest silence, in ms. Default 30 s. */
  timeoutMs?: number;
  /** Retries of transient failures (5xx, throttling, resets, timeouts). */
  retry?: Partial<RetryPolicy>;
  /** Encrypt matching files on the client before they are stored (see encrypted.ts). */
  clientSideEncryption?: ClientSideEncryption;
}

/** An environment: the variables of a process, or the CLI's `io.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A variable, with "" taken as unset. */
function variable(env: Environment, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

/**
 * `given` completed from `env`, as kops and the clouds' SDKs read it. Values given win; then:
 *
 * - S3: the endpoint is `S3_ENDPOINT`. With an endpoint, the region is `S3_REGION` and the
 *   static credentials `S3_ACCESS_KEY_ID`/`S3_SECRET_ACCESS_KEY` (each filling in one not given);
 *   without one, neither is read. Lacking a pair either way, `AWS_ACCESS_KEY_ID`/
 *   `AWS_SECRET_ACCESS_KEY` with `AWS_SESSION_TOKEN`; lacking that too, none (the AWS SDK's own
 *   chain finds them: profiles, SSO, roles). Without an endpoint, `AWS_REGION` or
 *   `AWS_DEFAULT_REGION` is the `defaultRegion` that asks a bucket for its region and creates buckets.
 * - GCS: the endpoint is `STORAGE_EMULATOR_HOST`, the project `GOOGLE_CLOUD_PROJECT` or `GCLOUD_PROJECT`.
 * - AWS KMS (client-side encryption): the endpoint is `AWS_ENDPOINT_URL_KMS`; the region, where
 *   neither `region` nor the key's ARN names one, `AWS_REGION` or `AWS_DEFAULT_REGION`.
 */
export function resolveStoreSettings(given: StoreSettings, env: Environment): StoreSettings {
  const out: StoreSettings = { ...given, s3: resolveS3(given.s3 ?? {}, env), gcs: resolveGcs(given.gcs ?? {}, env) };
  if (given.clientSideEncryption) out.clientSideEncryption = { ...given.clientSideEncryption, awsKms: resolveKmsSettings(given.clientSideEncryption.awsKms, env) };
  return out;
}

function resolveS3(given: S3Options, env: Environment): S3Options {
  const { accessKeyId: _id, secretAccessKey: _secret, sessionToken: _token, ...rest } = given;
  const out: S3Options = { ...rest };
  const endpoint = given.endpoint ?? variable(env, "S3_ENDPOINT");
  if (endpoint !== undefined) out.endpoint = endpoint;
  const region = given.region ?? (endpoint !== undefined ? variable(env, "S3_REGION") : undefined);
  if (region !== undefined) out.region = region;
  const defaultRegion = given.defaultRegion ?? (endpoint === undefined ? awsRegion(env) : undefined);
  if (defaultRegion !== undefined) out.defaultRegion = defaultRegion;
  const id = given.accessKeyId ?? (endpoint !== undefined ? variable(env, "S3_ACCESS_KEY_ID") : undefined);
  const secret = given.secretAccessKey ?? (endpoint !== undefined ? variable(env, "S3_SECRET_ACCESS_KEY") : undefined);
  if (id && secret) return { ...out, accessKeyId: id, secretAccessKey: secret, ...(given.sessionToken ? { sessionToken: given.sessionToken } : {}) };
  const envId = variable(env, "AWS_ACCESS_KEY_ID");
  const envSecret = variable(env, "AWS_SECRET_ACCESS_KEY");
  const token = variable(env, "AWS_SESSION_TOKEN");
  if (envId && envSecret) return { ...out, accessKeyId: envId, secretAccessKey: envSecret, ...(token ? { sessionToken: token } : {}) };
  return out;
}

function resolveGcs(given: GcsOptions, env: Environment): GcsOptions {
  const out: GcsOptions = { ...given };
  const endpoint = given.endpoint ?? variable(env, "STORAGE_EMULATOR_HOST");
  if (endpoint !== undefined) out.endpoint = endpoint;
  const projectId = given.projectId ?? variable(env, "GOOGLE_CLOUD_PROJECT") ?? variable(env, "GCLOUD_PROJECT");
  if (projectId !== undefined) out.projectId = projectId;
  return out;
}

/** Where the AWS KMS keys are, completed from `env` (see `resolveStoreSettings`). */
export function resolveKmsSettings(given: AwsKmsOptions | undefined, env: Environment): AwsKmsOptions {
  const out: AwsKmsOptions = { ...given };
  const endpoint = given?.endpoint ?? variable(env, "AWS_ENDPOINT_URL_KMS");
  if (endpoint !== undefined) out.endpoint = endpoint;
  const defaultRegion = given?.defaultRegion ?? awsRegion(env);
  if (defaultRegion !== undefined) out.defaultRegion = defaultRegion;
  return out;
}

function awsRegion(env: Environment): string | undefined {
  return variable(env, "AWS_REGION") ?? variable(env, "AWS_DEFAULT_REGION");
}

/**
 * The variables through which kops reads S3 settings (the inverse of `resolveStoreSettings`), to
 * run kops against the store these settings reach: with an endpoint kops's own `S3_*`, without one
 * the AWS SDK's.
 */
export function s3Variables(settings: StoreSettings): Record<string, string> {
  const s3 = settings.s3 ?? {};
  const keys = s3.accessKeyId && s3.secretAccessKey ? s3 : undefined;
  if (s3.endpoint) {
    return {
      S3_ENDPOINT: s3.endpoint,
      ...(s3.region ? { S3_REGION: s3.region } : {}),
      ...(keys ? { S3_ACCESS_KEY_ID: keys.accessKeyId!, S3_SECRET_ACCESS_KEY: keys.secretAccessKey! } : {}),
    };
  }
  return keys ? { AWS_ACCESS_KEY_ID: keys.accessKeyId!, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey!, ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}) } : {};
}

/** The variables through which kops reads GCS settings: the emulator's address. */
export function gcsVariables(settings: StoreSettings): Record<string, string> {
  return settings.gcs?.endpoint ? { STORAGE_EMULATOR_HOST: settings.gcs.endpoint } : {};
}
