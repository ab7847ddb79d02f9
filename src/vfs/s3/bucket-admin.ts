import type * as S3 from "@aws-sdk/client-s3";
import type { BucketAdmin, BucketEncryption, BucketSettings, NewBucket } from "../bucket";
import { AlreadyExistsError, BackendError, describe, ValidationError } from "../errors";
import { bucketRegionOf, classifyS3, nameOf, statusOf } from "./answers";
import { loadSdk, type S3Session } from "./session";

/** Bucket settings on S3: versioning, default encryption, public access block, forced deletes. */
export class S3BucketAdmin implements BucketAdmin {
  readonly url: string;

  constructor(private readonly session: S3Session) {
    this.url = `s3://${session.bucket}`;
  }

  private get bucket(): string {
    return this.session.bucket;
  }

  private async run<T>(op: string, fn: (client: S3.S3Client) => Promise<T>, client?: S3.S3Client): Promise<T> {
    try {
      return await fn(client ?? (await this.session.client()));
    } catch (e) {
      throw classifyS3(op, this.url, e);
    }
  }

  /** An S3-compatible server (not AWS) that does not have an API AWS has. */
  private unsupportedHere(e: unknown): boolean {
    if (this.session.endpoint === undefined) return false;
    return statusOf(e) === 501 || ["NotImplemented", "MalformedXML"].includes(nameOf(e));
  }

  async settings(): Promise<BucketSettings> {
    const s3 = loadSdk();
    const absent: BucketSettings = { exists: false, versioning: false, encryption: { type: "none" }, publicAccessBlocked: undefined };
    try {
      const client = await this.session.client();
      await client.send(new s3.HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      if (statusOf(e) === 404 || nameOf(e) === "NotFound" || nameOf(e) === "NoSuchBucket") return absent;
      const region = bucketRegionOf(e);
      if (region) throw new ValidationError(`inspect bucket ${this.url}: the bucket is in ${region}, not in the region given; set region "${region}" (or leave it out)`, { url: this.url, cause: e });
      throw classifyS3("inspect bucket", this.url, e);
    }
    return this.run("inspect bucket", async (client) => {
      const versioning = await client.send(new s3.GetBucketVersioningCommand({ Bucket: this.bucket }));
      let encryption: BucketEncryption = { type: "none" };
      try {
        const out = await client.send(new s3.GetBucketEncryptionCommand({ Bucket: this.bucket }));
        const rule = out.ServerSideEncryptionConfiguration?.Rules?.find((r) => r.ApplyServerSideEncryptionByDefault)?.ApplyServerSideEncryptionByDefault;
        if (rule?.SSEAlgorithm === "AES256") encryption = { type: "AES256" };
        else if (rule?.SSEAlgorithm === "aws:kms") encryption = { type: "aws:kms", kmsKeyId: rule.KMSMasterKeyID ?? "" };
      } catch (e) {
        if (!/ServerSideEncryptionConfigurationNotFound/.test(nameOf(e))) throw e;
      }
      let publicAccessBlocked: boolean | undefined;
      try {
        const out = await client.send(new s3.GetPublicAccessBlockCommand({ Bucket: this.bucket }));
        const c = out.PublicAccessBlockConfiguration;
        publicAccessBlocked = Boolean(c?.BlockPublicAcls && c.BlockPublicPolicy && c.IgnorePublicAcls && c.RestrictPublicBuckets);
      } catch (e) {
        if (nameOf(e) === "NoSuchPublicAccessBlockConfiguration") publicAccessBlocked = false;
        else if (!this.unsupportedHere(e)) throw e;
      }
      let location: string | undefined;
      try {
        const out = await client.send(new s3.GetBucketLocationCommand({ Bucket: this.bucket }));
        const c = out.LocationConstraint as string | undefined;
        location = !c ? "us-east-1" : c === "EU" ? "eu-west-1" : c.toLowerCase();
      } catch (e) {
        if (!this.unsupportedHere(e) && statusOf(e) !== 403) throw e;
      }
      return { exists: true, versioning: versioning.Status === "Enabled", encryption, publicAccessBlocked, ...(location ? { location } : {}) };
    });
  }

  async create(settings: NewBucket): Promise<void> {
    const s3 = loadSdk();
    const region = settings.region ?? this.session.options.region ?? this.session.options.defaultRegion ?? "us-east-1";
    const client = this.session.clientFor(region);
    try {
      await client.send(new s3.CreateBucketCommand({
        Bucket: this.bucket,
        ...(region !== "us-east-1" ? { CreateBucketConfiguration: { LocationConstraint: region as S3.BucketLocationConstraint } } : {}),
      }));
    } catch (e) {
      if (["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].includes(nameOf(e))) {
        throw new AlreadyExistsError(describe("create bucket", this.url, "the bucket already exists"), { url: this.url, cause: e });
      }
      throw classifyS3("create bucket", this.url, e);
    }
    this.session.forgetBucketDetails();
    await this.run("block public access to", async (c) => {
      try {
        await c.send(new s3.PutPublicAccessBlockCommand({
          Bucket: this.bucket,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        }));
      } catch (e) {
        // S3-compatible servers without the API (MinIO) keep buckets private unless a policy opens them.
        if (!this.unsupportedHere(e)) throw e;
      }
    }, client);
    if (settings.versioning) await this.setVersioning(true);
    await this.setEncryption(settings.encryption);
  }

  async setVersioning(on: boolean): Promise<void> {
    const s3 = loadSdk();
    await this.run(on ? "enable versioning on" : "suspend versioning on", (c) => c.send(new s3.PutBucketVersioningCommand({
      Bucket: this.bucket, VersioningConfiguration: { Status: on ? "Enabled" : "Suspended" },
    })));
  }

  async setEncryption(encryption: BucketEncryption): Promise<void> {
    const s3 = loadSdk();
    this.session.forgetBucketDetails();
    if (encryption.type === "none") {
      await this.run("remove default encryption from", (c) => c.send(new s3.DeleteBucketEncryptionCommand({ Bucket: this.bucket })));
      return;
    }
    if (encryption.type !== "AES256" && encryption.type !== "aws:kms") {
      throw new BackendError(describe("set encryption on", this.url, `${encryption.type} is not an S3 encryption`), { url: this.url });
    }
    const rule: S3.ServerSideEncryptionByDefault = encryption.type === "AES256"
      ? { SSEAlgorithm: "AES256" }
      : { SSEAlgorithm: "aws:kms", KMSMasterKeyID: encryption.kmsKeyId };
    await this.run("set default encryption on", (c) => c.send(new s3.PutBucketEncryptionCommand({
      Bucket: this.bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: rule }] },
    })));
  }

  async isEmpty(): Promise<boolean> {
    const s3 = loadSdk();
    return this.run("list", async (c) => {
      const out = await c.send(new s3.ListObjectVersionsCommand({ Bucket: this.bucket, MaxKeys: 1 }));
      return (out.Versions?.length ?? 0) === 0 && (out.DeleteMarkers?.length ?? 0) === 0;
    });
  }

  async delete(options: { force: boolean }): Promise<void> {
    const s3 = loadSdk();
    await this.run("delete bucket", async (c) => {
      if (options.force) {
        for (;;) {
          const page = await c.send(new s3.ListObjectVersionsCommand({ Bucket: this.bucket, MaxKeys: 1000 }));
          const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
          if (objects.length === 0) break;
          const out = await c.send(new s3.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
          if (out.Errors?.length) throw new BackendError(`could not delete ${out.Errors.length} objects, e.g. ${out.Errors[0]!.Key}: ${out.Errors[0]!.Message}`);
        }
        const uploads = await c.send(new s3.ListMultipartUploadsCommand({ Bucket: this.bucket }));
        for (const u of uploads.Uploads ?? []) {
          await c.send(new s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key!, UploadId: u.UploadId! }));
        }
      }
      await c.send(new s3.DeleteBucketCommand({ Bucket: this.bucket }));
    });
    this.session.forgetBucketDetails();
  }
}
