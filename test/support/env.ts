/** The servers every integration test shares, started once per run by test/setup.ts. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { randomBytes } from "node:crypto";
import type { GcsOptions, OpenOptions, S3Options } from "../../src/vfs";
import type { AwsKmsOptions } from "../../src/vfs/kms";
import {
  KMS_ACCESS_KEY_ID, KMS_REGION, KMS_SECRET_ACCESS_KEY, MINIO_PASSWORD, MINIO_USER, type RunningServer, startFakeGcs, startKms, startMinio,
} from "./servers";

export const servers: { minio?: RunningServer; gcs?: RunningServer; kms?: RunningServer } = {};

export async function startAll(): Promise<void> {
  [servers.minio, servers.gcs, servers.kms] = await Promise.all([startMinio(), startFakeGcs(), startKms()]);
}

export async function stopAll(): Promise<void> {
  await Promise.all([servers.minio?.stop(), servers.gcs?.stop(), servers.kms?.stop()]);
}

/** How kstate reaches the KMS test server (moto). */
export function kmsOptions(): AwsKmsOptions {
  return { endpoint: need(servers.kms, "moto (KMS)").endpoint, region: KMS_REGION, accessKeyId: KMS_ACCESS_KEY_ID, secretAccessKey: KMS_SECRET_ACCESS_KEY };
}

/** The same, as the environment variables the CLI reads. */
export function kmsEnv(): Record<string, string> {
  const o = kmsOptions();
  return { AWS_ENDPOINT_URL_KMS: o.endpoint!, AWS_REGION: o.region!, AWS_ACCESS_KEY_ID: o.accessKeyId!, AWS_SECRET_ACCESS_KEY: o.secretAccessKey! };
}

/** A new symmetric KMS key on the test server, with an alias; returns the alias and the key's ARN. */
export async function makeKmsKey(): Promise<{ alias: string; arn: string }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const kms = await import("@aws-sdk/client-kms");
  const o = kmsOptions();
  const client = new kms.KMSClient({ endpoint: o.endpoint, region: o.region, credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! } });
  const key = await client.send(new kms.CreateKeyCommand({ Description: "kstate test key" }));
  const alias = `alias/${uniqueName("kstate")}`;
  await client.send(new kms.CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyMetadata!.KeyId! }));
  client.destroy();
  return { alias, arn: key.KeyMetadata!.Arn! };
}

function need(server: RunningServer | undefined, name: string): RunningServer {
  if (!server) throw new Error(`${name} is not running: test/setup.ts starts it before the tests`);
  return server;
}

export function s3Options(server = servers.minio): S3Options {
  return { endpoint: need(server, "minio").endpoint, region: "us-east-1", accessKeyId: MINIO_USER, secretAccessKey: MINIO_PASSWORD };
}

export function gcsOptions(server = servers.gcs): GcsOptions {
  return { endpoint: need(server, "fake-gcs-server").endpoint, projectId: "kstate-test" };
}

export function openOptions(): OpenOptions {
  return { s3: s3Options(), gcs: gcsOptions(), timeoutMs: 10_000 };
}

/** A fresh bucket name, valid on S3 and GCS. */
export function uniqueName(prefix = "kstate"): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

export async function makeS3Bucket(options: { versioning?: boolean; server?: RunningServer; region?: string } = {}): Promise<string> {
  const s3 = await import("@aws-sdk/client-s3");
  const o = s3Options(options.server);
  const client = new s3.S3Client({
    endpoint: o.endpoint, region: options.region ?? "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! },
  });
  const bucket = uniqueName();
  await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
  if (options.versioning) {
    await client.send(new s3.PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  }
  client.destroy();
  return bucket;
}

export async function makeGcsBucket(options: { versioning?: boolean } = {}): Promise<string> {
  const { Storage } = await import("@google-cloud/storage");
  const o = gcsOptions();
  const storage = new Storage({ apiEndpoint: o.endpoint!, projectId: o.projectId! });
  const bucket = uniqueName();
  await storage.createBucket(bucket, options.versioning ? { versioning: { enabled: true } } : {});
  return bucket;
}
