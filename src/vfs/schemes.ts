/**
 * What each kind of store is and can do, in one table: the code above the VFS (copies, migration,
 * kops options, the StateStore) asks here instead of testing URL prefixes. A new scheme is a row
 * here, a folder beside s3/ and gcs/, and its openers in open.ts.
 */
import type { BucketEncryption } from "./bucket";
import { MULTIPART_ETAG } from "./s3/etag";
import { gcsVariables, s3Variables, type StoreSettings } from "./settings";
import type { Scheme } from "./url";

export interface SchemeFacts {
  readonly scheme: Scheme;
  /** A URL of this form, as messages show it (`s3://bucket`). */
  readonly example: string;
  /** Keeps old versions of files (bucket versioning); a new StateStore turns it on by default. */
  readonly versioning: boolean;
  /** The server-side encryption a bucket can have, the default first; none where the store has no bucket. */
  readonly serverEncryption: readonly BucketEncryption["type"][];
  /** Two stores of this scheme on one endpoint can copy a file between them on the server. */
  readonly serverCopy: boolean;
  /** True for a revision whose equal on another file of this scheme means equal bytes (no MD5 needed). */
  sameBytes(revision: string): boolean;
  /** How kops writes `spec.configBase` for a folder here: its URL, or its plain local path. */
  readonly configBase: "url" | "path";
  /** The cloud kops assumes for a cluster stored here when none is given. */
  readonly defaultCloud?: "aws" | "gce";
  /** The bucket (or folder) can be inspected, created and deleted (`bucketAdmin`). */
  readonly bucketAdmin: boolean;
  /** A missing bucket (folder) reads as empty and is made by the first write, so it need not exist beforehand. */
  readonly madeOnWrite: boolean;
  /** True where a StateStore can live here, else why not. */
  readonly stateStore: true | string;
  /** A StateStore here is a whole bucket, never a prefix within one. */
  readonly wholeBucket: boolean;
  /** Takes an endpoint (an S3-compatible server, a GCS emulator). */
  readonly endpoint: boolean;
  /** Takes static access keys (an access key id and secret); elsewhere the cloud's own credentials serve. */
  readonly staticKeys: boolean;
  /** Buckets belong to a project, which a store may name. */
  readonly project: boolean;
  /** True where the kops binary can reach a store here, else why not. */
  readonly kopsReaches: true | string;
  /** The environment variables through which kops reads `settings` for a store here (none where kops needs none). */
  kopsVariables(settings: StoreSettings): Record<string, string>;
  /** kops can render the files it manages here as Terraform resources (its TerraformManagedFiles feature). */
  readonly terraformManagedFiles: boolean;
  /** Pulumi type tokens of the cloud's bucket resources a StateStore can sit on, and the property naming the bucket. */
  readonly bucketResources?: { readonly types: readonly string[]; readonly nameProperty: string };
}

const never = (): boolean => false;
const noVariables = (): Record<string, string> => ({});

export const SCHEMES: Readonly<Record<Scheme, SchemeFacts>> = {
  s3: {
    scheme: "s3", example: "s3://bucket", versioning: true, serverEncryption: ["AES256", "aws:kms"], serverCopy: true,
    sameBytes: (revision) => MULTIPART_ETAG.test(revision), configBase: "url", defaultCloud: "aws", bucketAdmin: true,
    madeOnWrite: false, stateStore: true, wholeBucket: true, endpoint: true, staticKeys: true, project: false,
    kopsReaches: true, kopsVariables: s3Variables, terraformManagedFiles: true,
    bucketResources: { types: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"], nameProperty: "bucket" },
  },
  gs: {
    scheme: "gs", example: "gs://bucket", versioning: true, serverEncryption: ["google-managed", "cloud-kms"], serverCopy: false,
    sameBytes: never, configBase: "url", defaultCloud: "gce", bucketAdmin: true,
    madeOnWrite: false, stateStore: true, wholeBucket: true, endpoint: true, staticKeys: false, project: true,
    kopsReaches: true, kopsVariables: gcsVariables, terraformManagedFiles: true,
    bucketResources: { types: ["gcp:storage/bucket:Bucket"], nameProperty: "name" },
  },
  file: {
    scheme: "file", example: "file:///abs/dir", versioning: false, serverEncryption: ["none"], serverCopy: false,
    sameBytes: never, configBase: "path", bucketAdmin: true,
    madeOnWrite: true, stateStore: true, wholeBucket: false, endpoint: false, staticKeys: false, project: false,
    kopsReaches: true, kopsVariables: noVariables, terraformManagedFiles: false,
  },
  memfs: {
    scheme: "memfs", example: "memfs://name", versioning: true, serverEncryption: [], serverCopy: false,
    sameBytes: never, configBase: "url", bucketAdmin: false,
    madeOnWrite: true, stateStore: "memfs:// stores live inside one process", wholeBucket: false, endpoint: false, staticKeys: false, project: false,
    kopsReaches: "memfs:// stores live inside one process", kopsVariables: noVariables, terraformManagedFiles: false,
  },
};

/** The facts of a URL's scheme, read from its prefix without parsing the rest; undefined for a plain path or an unknown scheme. */
export function schemeOfUrl(url: string): SchemeFacts | undefined {
  const name = /^([a-z0-9]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  return name !== undefined && Object.hasOwn(SCHEMES, name) ? SCHEMES[name as Scheme] : undefined;
}

/** The schemes that have a fact, in table order. */
export function schemesWhere(fact: (s: SchemeFacts) => boolean): SchemeFacts[] {
  return Object.values(SCHEMES).filter(fact);
}

/** `s3://, gs:// or file://`: the schemes listed for a message. */
export function listSchemes(schemes: readonly SchemeFacts[], form: (s: SchemeFacts) => string = (s) => `${s.scheme}://`): string {
  const names = schemes.map(form);
  return names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}
