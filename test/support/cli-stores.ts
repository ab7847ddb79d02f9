/** The stores CLI tests run against: memfs, and MinIO and fake-gcs-server buckets with versioning on. */
import { resetMemoryStore } from "../../src/vfs";
import { gcsOptions, makeGcsBucket, makeS3Bucket, s3Options, uniqueName } from "./env";
import { MINIO_PASSWORD, MINIO_USER } from "./servers";

export interface CliStore {
  url: string;
  /** What a user would export in their shell for this store (kops's variables). */
  env: Record<string, string>;
}

export const versionedStores: Record<string, () => Promise<CliStore>> = {
  "s3 (MinIO, versioned)": async () => ({
    url: `s3://${await makeS3Bucket({ versioning: true })}`,
    env: { S3_ENDPOINT: s3Options().endpoint!, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: MINIO_USER, S3_SECRET_ACCESS_KEY: MINIO_PASSWORD },
  }),
  "gcs (fake-gcs-server, versioned)": async () => ({ url: `gs://${await makeGcsBucket({ versioning: true })}`, env: { STORAGE_EMULATOR_HOST: gcsOptions().endpoint! } }),
};

export const memoryStore = async (): Promise<CliStore> => {
  const n = uniqueName("mem");
  resetMemoryStore(n);
  return { url: `memfs://${n}`, env: {} };
};

/** Runs `fn` with `extra` in process.env (the in-process CLI and the VFS read it), then restores it. */
export async function withProcessEnv<T>(extra: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(extra).map((k) => [k, process.env[k]]));
  Object.assign(process.env, extra);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
