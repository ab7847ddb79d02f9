/**
 * A fresh, empty store of each scheme for a test, and what a user would export in their shell
 * to reach it (kops's variables): memfs, a temporary file:// folder, a MinIO bucket, a
 * fake-gcs-server bucket. `storesOf` names them as test titles show them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resetMemoryStore } from "../../src/vfs";
import { gcsOptions, makeGcsBucket, makeS3Bucket, s3Options, uniqueName } from "./env";
import { MINIO_PASSWORD, MINIO_USER } from "./servers";

export interface FreshStore {
  url: string;
  /** What a user would export in their shell for this store (kops's variables). */
  env: Record<string, string>;
}

/** kops's S3_* variables for the test MinIO. */
export function s3Env(): Record<string, string> {
  return { S3_ENDPOINT: s3Options().endpoint!, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: MINIO_USER, S3_SECRET_ACCESS_KEY: MINIO_PASSWORD };
}

/** The variable that points Google's clients (and kstate) at fake-gcs-server. */
export function gcsEnv(): Record<string, string> {
  return { STORAGE_EMULATOR_HOST: gcsOptions().endpoint! };
}

export const freshStore = {
  memfs: async (): Promise<FreshStore> => {
    const name = uniqueName("mem");
    resetMemoryStore(name);
    return { url: `memfs://${name}`, env: {} };
  },
  file: async (): Promise<FreshStore> => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-store-"))}`, env: {} }),
  s3: async (options: { versioning?: boolean } = {}): Promise<FreshStore> => ({ url: `s3://${await makeS3Bucket(options)}`, env: s3Env() }),
  gs: async (options: { versioning?: boolean } = {}): Promise<FreshStore> => ({ url: `gs://${await makeGcsBucket(options)}`, env: gcsEnv() }),
};

export type StoreScheme = keyof typeof freshStore;

/** How test titles name each scheme's store. */
export const STORE_LABELS: Record<StoreScheme, string> = { memfs: "memfs", file: "file://", s3: "s3 (MinIO)", gs: "gcs (fake-gcs-server)" };

/** A maker of fresh stores per scheme, by label, for `for (const [kind, make] of Object.entries(...))`. */
export function storesOf(...schemes: StoreScheme[]): Record<string, () => Promise<FreshStore>> {
  return Object.fromEntries(schemes.map((s) => [STORE_LABELS[s], () => freshStore[s]()]));
}
