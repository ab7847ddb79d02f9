/** The stores CLI tests run against: memfs, and MinIO and fake-gcs-server buckets with versioning on. */
import { openPath, resolveStoreSettings, type VfsPath } from "../../src/vfs";
import { type FreshStore, freshStore } from "./stores";

export type CliStore = FreshStore;

export const versionedStores: Record<string, () => Promise<CliStore>> = {
  "s3 (MinIO, versioned)": () => freshStore.s3({ versioning: true }),
  "gcs (fake-gcs-server, versioned)": () => freshStore.gs({ versioning: true }),
};

export const memoryStore = freshStore.memfs;

/** A path in a store as the CLI reaches it with `env` (kops's variables): for a test to look behind the CLI. */
export function openWith(url: string, env: Record<string, string | undefined>): VfsPath {
  return openPath(url, resolveStoreSettings({}, env));
}
