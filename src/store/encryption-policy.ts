/**
 * A store's client-side encryption policy, recorded in the store itself at
 * `.kstate/encryption.json` (outside every cluster's folder: kops lists the store's tree and keeps
 * only keys ending in `/config`, and kstate lists folders holding a `config`). It names the kind of
 * key (and the AWS KMS key, which is no secret) and the patterns; never a passphrase nor anything
 * derived from one. Every kstate writer of the store honours it (policy-guard.ts).
 */
import { globToRegExp } from "../vfs/encrypted";
import { NotFoundError, ValidationError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";
import { DEFAULT_ENCRYPTED_PATTERNS, type ClusterEncryption } from "./secrets";

export const POLICY_FOLDER = ".kstate";
export const POLICY_FILE = `${POLICY_FOLDER}/encryption.json`;
export const POLICY_VERSION = 1;

export interface EncryptionPolicy {
  version: number;
  /** The kind of key that seals the store's files. */
  keyProvider: "passphrase" | "aws-kms";
  /** With `aws-kms`: the key (id, ARN or alias) that wraps each file's data key. */
  awsKmsKeyId?: string;
  /** Files sealed, relative to each cluster's folder. */
  patterns: string[];
  /** The user accepted that sealed files kops or nodes read break kops on kops-managed clusters. */
  allowEncryptingKopsReads: boolean;
}

/** The policy that settings give (the key itself left out). */
export function policyOf(settings: ClusterEncryption): EncryptionPolicy {
  return {
    version: POLICY_VERSION,
    keyProvider: settings.awsKmsKeyId !== undefined ? "aws-kms" : "passphrase",
    ...(settings.awsKmsKeyId !== undefined ? { awsKmsKeyId: settings.awsKmsKeyId } : {}),
    patterns: [...(settings.patterns ?? DEFAULT_ENCRYPTED_PATTERNS)],
    allowEncryptingKopsReads: settings.allowEncryptingKopsReads === true,
  };
}

/** The policy as one line of text: "secrets/**, pki/private/** encrypted with a passphrase". */
export function describePolicy(p: EncryptionPolicy): string {
  const key = p.keyProvider === "aws-kms" ? `the AWS KMS key ${p.awsKmsKeyId ?? "(unnamed)"}` : "a passphrase";
  return `${p.patterns.join(", ")} encrypted with ${key}`;
}

function parsePolicy(text: string, url: string): EncryptionPolicy {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ValidationError(`${url}: not JSON; fix or remove it (kstate encryption clear)`, { url });
  }
  const o = v as Partial<EncryptionPolicy> | null;
  const bad = (field: string, why: string) => new ValidationError(`${url}: ${field} ${why}`, { url, problems: [{ path: field, message: why }] });
  if (typeof o !== "object" || o === null) throw bad("(document)", "must be an object");
  if (o.version !== POLICY_VERSION) throw bad("version", `is ${JSON.stringify(o.version)}; this kstate reads version ${POLICY_VERSION} (a newer kstate wrote it?)`);
  if (o.keyProvider !== "passphrase" && o.keyProvider !== "aws-kms") throw bad("keyProvider", 'must be "passphrase" or "aws-kms"');
  if (o.keyProvider === "aws-kms" && (typeof o.awsKmsKeyId !== "string" || o.awsKmsKeyId === "")) throw bad("awsKmsKeyId", "is required with aws-kms");
  if (!Array.isArray(o.patterns) || o.patterns.length === 0 || o.patterns.some((p) => typeof p !== "string" || p === "")) throw bad("patterns", "must be a non-empty list of path patterns");
  return {
    version: o.version,
    keyProvider: o.keyProvider,
    ...(o.keyProvider === "aws-kms" ? { awsKmsKeyId: o.awsKmsKeyId! } : {}),
    patterns: o.patterns,
    allowEncryptingKopsReads: o.allowEncryptingKopsReads === true,
  };
}

/** The recorded policy of the store at `root` (opened without encryption), with its revision. */
export async function readPolicy(root: VfsPath): Promise<{ policy: EncryptionPolicy; revision: Revision } | undefined> {
  const file = root.join(...POLICY_FILE.split("/"));
  try {
    const r = await file.read();
    return { policy: parsePolicy(r.data.toString("utf8"), file.url), revision: r.revision };
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
}

export function policyText(p: EncryptionPolicy): string {
  return `${JSON.stringify(p, null, 2)}\n`;
}

/**
 * Files kops, its nodes (nodeup, kops-controller) or etcd-manager read, relative to a cluster's
 * folder: patterns that take any of them in break kops on a cluster it manages.
 */
export const KOPS_READ_PATTERNS: readonly string[] = [
  "config", "cluster-completed.spec", "kops-version.txt", "instancegroup/**", "igconfig/**", "secrets/**", "pki/**", "addons/**", "manifests/**", "backups/**",
];

/** Sample files of each kind kops reads, to test a user's patterns against. */
const KOPS_READ_SAMPLES = [
  "config", "cluster-completed.spec", "kops-version.txt", "instancegroup/nodes", "secrets/admin", "secrets/system:dns",
  "pki/private/ca/keyset.yaml", "pki/issued/ca/keyset.yaml", "pki/ssh/public/admin/0123456789abcdef",
  "igconfig/node/nodes/nodeupconfig.yaml", "igconfig/control-plane/control-plane-us-east-1a/nodeupconfig.yaml",
  "addons/bootstrap-channel.yaml", "manifests/etcd/main-control-plane-us-east-1a.yaml", "backups/etcd/main/control/etcd-cluster-spec",
];

/** The patterns (of `patterns`) that take in files kops or its nodes read. */
export function kopsReadPatterns(patterns: readonly string[]): string[] {
  const kopsRead = KOPS_READ_PATTERNS.map(globToRegExp);
  return patterns.filter((p) => {
    const re = globToRegExp(p);
    // It matches one of kops's files, or names files inside one of kops's trees (`pki/private/x/*`).
    return KOPS_READ_SAMPLES.some((s) => re.test(s)) || kopsRead.some((k) => k.test(p.replace(/\*\*?|\?/g, "x")));
  });
}

/** Whether kops manages the cluster at `folder`: kops wrote `kops-version.txt` or `cluster-completed.spec` there. */
export async function isKopsManaged(folder: VfsPath): Promise<boolean> {
  for (const f of ["kops-version.txt", "cluster-completed.spec"]) {
    try {
      await folder.join(f).stat();
      return true;
    } catch (e) {
      if (!NotFoundError.isInstance(e)) throw e;
    }
  }
  return false;
}
