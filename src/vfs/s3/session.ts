/**
 * What an S3 store knows beyond its objects: the SDK, the endpoint, credentials, the bucket's
 * region (discovered as kops does, cached in the context), clients per region, the lean request
 * path (wire.ts) and the server-side-encryption headers a write carries (the bucket's default
 * encryption is asked for beside the first reads, so no write waits on it). Shared by the object
 * backend, multipart uploads, server-side copies and the bucket admin.
 */
import type * as S3 from "@aws-sdk/client-s3";
import { InvalidPathError } from "../errors";
import { cacheSlot, type VfsContext } from "../vfs-context";
import { bucketRegionOverWire, bucketRegionThroughSdk } from "./region";
import { S3Wire, type WireCredentials } from "./wire";

/** How objects are encrypted at rest by the server. */
export type S3Encryption =
  /** As kops does: nothing if the bucket has default encryption, else `AES256`. */
  | { mode: "auto" }
  | { mode: "AES256" }
  | { mode: "aws:kms"; kmsKeyId: string }
  /** Send no encryption header at all. */
  | { mode: "none" };

export interface S3Options {
  /** An S3-compatible endpoint (settings.ts: `S3_ENDPOINT`). Implies path-style addressing. */
  endpoint?: string;
  /** The bucket's region; with an endpoint default `us-east-1`, else discovered and cached per bucket. */
  region?: string;
  /** Without an endpoint: the region that asks a bucket for its region and creates buckets (default `us-east-1`). */
  defaultRegion?: string;
  /** Static credentials; without them the AWS SDK's chain finds some (profiles, SSO, roles). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  forcePathStyle?: boolean;
  encryption?: S3Encryption;
}

export interface S3SessionConfig {
  options: S3Options;
  /** Per request: longest wait for a connection, and longest silence on an open one. */
  timeoutMs: number;
  context: VfsContext;
}

/** The server-side-encryption parameters of a write, as the SDK names them. */
export interface EncryptionParams {
  ServerSideEncryption?: S3.ServerSideEncryption;
  SSEKMSKeyId?: string;
}

type S3Module = typeof import("@aws-sdk/client-s3");
let sdk: S3Module | undefined;
export function loadSdk(): S3Module {
  // Loaded on first use only: the CLI must not pay for SDKs of schemes it does not touch.
  sdk ??= require("@aws-sdk/client-s3") as S3Module;
  return sdk;
}

const CLIENTS = cacheSlot<S3.S3Client>("S3 clients by endpoint, region and credentials");
const BUCKET_REGIONS = cacheSlot<Promise<string>>("S3 bucket regions");
const BUCKET_DEFAULT_ENCRYPTION = cacheSlot<Promise<boolean>>("S3 buckets with default encryption");

/** One S3 bucket (`location`) on AWS S3 or an S3-compatible server, as seen with one set of options. */
export class S3Session {
  readonly endpoint: string | undefined;
  readonly options: S3Options;
  readonly timeoutMs: number;
  private readonly context: VfsContext;
  private wireOnce: Promise<S3Wire> | undefined;

  constructor(readonly bucket: string, config: S3SessionConfig) {
    this.options = config.options;
    this.timeoutMs = config.timeoutMs;
    this.context = config.context;
    this.endpoint = config.options.endpoint;
    if (this.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(this.endpoint)) {
      throw new InvalidPathError(`s3://${bucket}: endpoint ${JSON.stringify(this.endpoint)} is not an http(s) URL`);
    }
  }

  async region(): Promise<string> {
    if (this.options.region) return this.options.region;
    if (this.endpoint !== undefined) return "us-east-1";
    const regions = this.context.cache(BUCKET_REGIONS);
    let region = regions.get(this.bucket);
    if (!region) {
      region = this.discoverRegion();
      regions.set(this.bucket, region);
      region.catch(() => regions.delete(this.bucket));
    }
    return region;
  }

  /** As kops does (region.ts): over the wire path with static credentials, else through the SDK. */
  private async discoverRegion(): Promise<string> {
    const defaultRegion = this.options.defaultRegion ?? "us-east-1";
    const fixed = this.staticCredentials();
    if (fixed) {
      return bucketRegionOverWire(new S3Wire({
        endpoint: undefined, region: defaultRegion, bucket: this.bucket, pathStyle: this.options.forcePathStyle ?? false,
        credentials: () => Promise.resolve(fixed), timeoutMs: this.timeoutMs, context: this.context,
      }));
    }
    return bucketRegionThroughSdk(loadSdk(), this.clientFor(defaultRegion), this.bucket);
  }

  /** A client for a region (clients are shared per endpoint, region and credentials). */
  clientFor(region: string): S3.S3Client {
    const o = this.options;
    const credentials = this.staticCredentials();
    const forcePathStyle = o.forcePathStyle ?? this.endpoint !== undefined;
    const cacheKey = JSON.stringify([this.endpoint, region, credentials, forcePathStyle, this.timeoutMs]);
    return this.context.memo(CLIENTS, cacheKey, () => {
      const { S3Client } = loadSdk();
      return new S3Client({
        region,
        forcePathStyle,
        ...(this.endpoint !== undefined ? { endpoint: this.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        maxAttempts: 1, // retries happen in ObjectPath, which can tell a lost success from a conflict
        // The endpoint is the settings' alone: the SDK would otherwise follow AWS_ENDPOINT_URL(_S3)
        // for its requests while the wire path (wire.ts) went to the bucket's real endpoint.
        ignoreConfiguredEndpointUrls: true,
        requestHandler: {
          connectionTimeout: Math.min(this.timeoutMs, 10_000),
          requestTimeout: this.timeoutMs,
          throwOnRequestTimeout: true, // otherwise a silent server only logs a warning and the call hangs
          httpAgent: { keepAlive: true, maxSockets: 64 },
          httpsAgent: { keepAlive: true, maxSockets: 64 },
        },
      });
    });
  }

  /** The client for this bucket's region. */
  async client(): Promise<S3.S3Client> {
    return this.clientFor(await this.region());
  }

  /**
   * The static credentials the settings give (settings.ts resolves them from the variables), if
   * any; otherwise the SDK's chain (profiles, SSO, instance roles, …) finds them.
   */
  staticCredentials(): WireCredentials | undefined {
    const o = this.options;
    if (o.accessKeyId && o.secretAccessKey) return { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}) };
    return undefined;
  }

  /** True when a server-side copy between the two can work: one endpoint, one set of credentials. */
  reaches(other: S3Session): boolean {
    return other.endpoint === this.endpoint && other.staticCredentials()?.accessKeyId === this.staticCredentials()?.accessKeyId;
  }

  /** The lean request path (wire.ts) for this bucket: reads, heads, listings, writes, deletes, copies. */
  wire(): Promise<S3Wire> {
    this.wireOnce ??= this.region().then((region) => {
      const fixed = this.staticCredentials();
      // Without static credentials, the SDK's chain supplies (and refreshes) them.
      const credentials = fixed ? () => Promise.resolve(fixed) : async () => ((await this.client()).config.credentials as () => Promise<WireCredentials>)();
      return new S3Wire({
        endpoint: this.endpoint, region, bucket: this.bucket, pathStyle: this.options.forcePathStyle ?? this.endpoint !== undefined,
        credentials, timeoutMs: this.timeoutMs, context: this.context,
      });
    });
    this.wireOnce.catch(() => (this.wireOnce = undefined)); // a failed region lookup is tried again
    return this.wireOnce;
  }

  /**
   * Starts learning what a write will need (the bucket's default encryption, under kops's rule)
   * without waiting for it: called with a store's first reads, so the answer is in by the time a
   * write asks for it. Learnt once per bucket and context.
   */
  prepareWrites(): void {
    if (this.context.options.readsOnly) return;
    if ((this.options.encryption ?? { mode: "auto" }).mode === "auto") void this.defaultEncryption();
  }

  /** Parameters for a write: kops's rule (AES256 unless the bucket encrypts by default) unless told otherwise. */
  async encryptionParams(): Promise<EncryptionParams> {
    const enc = this.options.encryption ?? { mode: "auto" };
    switch (enc.mode) {
      case "none":
        return {};
      case "AES256":
        return { ServerSideEncryption: "AES256" };
      case "aws:kms":
        return { ServerSideEncryption: "aws:kms", SSEKMSKeyId: enc.kmsKeyId };
      case "auto": {
        // The lookup runs detached, so a command that only reads never waits for it; a write
        // that does wait keeps the process alive until the answer is in.
        const waiting = setInterval(() => undefined, 60_000);
        try {
          return (await this.defaultEncryption()) ? {} : { ServerSideEncryption: "AES256" };
        } finally {
          clearInterval(waiting);
        }
      }
    }
  }

  private defaultEncryption(): Promise<boolean> {
    return this.context.memo(BUCKET_DEFAULT_ENCRYPTION, this.bucket, () => this.hasDefaultEncryption());
  }

  /** GetBucketEncryption, over the wire path: does any rule apply encryption by default? */
  private async hasDefaultEncryption(): Promise<boolean> {
    try {
      const wire = await this.wire();
      const out = await wire.send({ method: "GET", query: { encryption: "" }, detached: true });
      return /<ApplyServerSideEncryptionByDefault[\s>]/.test(out.body.toString("utf8"));
    } catch {
      return false; // no default, or not allowed to ask: send AES256, as kops does
    }
  }

  /** Forgets what was learnt about this bucket (region, default encryption), after its settings change. */
  forgetBucketDetails(): void {
    this.context.cache(BUCKET_REGIONS).delete(this.bucket);
    this.context.cache(BUCKET_DEFAULT_ENCRYPTION).delete(this.bucket);
  }
}

/** The SDK's parameters as S3 request headers, for the wire path. */
export function encryptionHeaders(p: EncryptionParams): Record<string, string> {
  return {
    ...(p.ServerSideEncryption ? { "x-amz-server-side-encryption": p.ServerSideEncryption } : {}),
    ...(p.SSEKMSKeyId ? { "x-amz-server-side-encryption-aws-kms-key-id": p.SSEKMSKeyId } : {}),
  };
}
