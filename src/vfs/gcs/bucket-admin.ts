import type * as GCS from "@google-cloud/storage";
import type { BucketAdmin, BucketEncryption, BucketSettings, NewBucket } from "../bucket";
import { AlreadyExistsError, BackendError, describe } from "../errors";
import { classifyGcs, statusOf } from "./answers";
import type { GcsSession } from "./session";

/** Bucket settings on GCS: versioning, default KMS key, public access prevention, forced deletes. */
export class GcsBucketAdmin implements BucketAdmin {
  readonly url: string;

  constructor(private readonly session: GcsSession) {
    this.url = `gs://${session.bucket}`;
  }

  private bucket(): GCS.Bucket {
    return this.session.storage().bucket(this.session.bucket);
  }

  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw classifyGcs(op, this.url, e);
    }
  }

  async settings(): Promise<BucketSettings> {
    let meta: GCS.BucketMetadata;
    try {
      [meta] = await this.bucket().getMetadata();
    } catch (e) {
      if (statusOf(e) === 404) return { exists: false, versioning: false, encryption: { type: "none" }, publicAccessBlocked: undefined };
      throw classifyGcs("inspect bucket", this.url, e);
    }
    const kmsKeyName = meta.encryption?.defaultKmsKeyName;
    const prevention = meta.iamConfiguration?.publicAccessPrevention;
    return {
      exists: true,
      versioning: meta.versioning?.enabled === true,
      encryption: kmsKeyName ? { type: "cloud-kms", kmsKeyName } : { type: "google-managed" },
      publicAccessBlocked: prevention === undefined ? undefined : prevention === "enforced",
      ...(meta.location ? { location: String(meta.location).toLowerCase() } : {}),
    };
  }

  async create(settings: NewBucket): Promise<void> {
    const kmsKeyName = settings.encryption.type === "cloud-kms" ? settings.encryption.kmsKeyName : undefined;
    try {
      await this.session.storage().createBucket(this.session.bucket, {
        versioning: { enabled: settings.versioning },
        iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: "enforced" },
        ...(settings.region ? { location: settings.region } : {}),
        ...(kmsKeyName ? { encryption: { defaultKmsKeyName: kmsKeyName } } : {}),
      } as GCS.CreateBucketRequest);
    } catch (e) {
      if (statusOf(e) === 409) throw new AlreadyExistsError(describe("create bucket", this.url, "the bucket already exists"), { url: this.url, cause: e });
      throw classifyGcs("create bucket", this.url, e);
    }
  }

  async setVersioning(on: boolean): Promise<void> {
    await this.run(on ? "enable versioning on" : "suspend versioning on", () => this.bucket().setMetadata({ versioning: { enabled: on } }));
  }

  async setEncryption(encryption: BucketEncryption): Promise<void> {
    if (encryption.type !== "google-managed" && encryption.type !== "cloud-kms") {
      throw new BackendError(describe("set encryption on", this.url, `${encryption.type} is not a GCS encryption`), { url: this.url });
    }
    const defaultKmsKeyName = encryption.type === "cloud-kms" ? encryption.kmsKeyName : null;
    await this.run("set default encryption on", () => this.bucket().setMetadata({ encryption: { defaultKmsKeyName } } as GCS.BucketMetadata));
  }

  async isEmpty(): Promise<boolean> {
    return this.run("list", async () => {
      const [files] = await this.bucket().getFiles({ versions: true, maxResults: 1, autoPaginate: false });
      return files.length === 0;
    });
  }

  async delete(options: { force: boolean }): Promise<void> {
    await this.run("delete bucket", async () => {
      const bucket = this.bucket();
      if (options.force) {
        for (;;) {
          const [files] = await bucket.getFiles({ versions: true, maxResults: 1000, autoPaginate: false });
          if (files.length === 0) break;
          await Promise.all(files.map((f) => bucket.file(f.name, { generation: Number(f.metadata.generation) }).delete({ ignoreNotFound: true })));
        }
      }
      await bucket.delete();
    });
  }
}
