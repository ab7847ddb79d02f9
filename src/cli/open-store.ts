/**
 * How the CLI opens stores: the URL (--state and kops's variables), client-side encryption (flags
 * and KSTATE_* variables) and how to reach the store (S3_*, AWS_*, STORAGE_EMULATOR_HOST, …), all
 * from the command's own environment (`io.env`, with the flags folded in by encryption-flags.ts),
 * never from the process's. Every store or folder a command opens is opened here.
 */
import { ClusterStore } from "../store/cluster-store";
import { guardStore, type KeyHint } from "../store/policy-guard";
import { type ClusterEncryption, unreadableByKops } from "../store/secrets";
import { bucketAdmin, type Environment, NotFoundError, openPath, parseUrl, resolveStoreSettings, SCHEMES, VfsContext, type VfsPath } from "../vfs";
import { groupNamesOnDisk } from "./group-names";
import { type Io, UsageError } from "./io";
import { kopsConfigFile, storeFromKopsConfig } from "./kops-config";

/** A missing key, as the CLI takes it. */
const CLI_KEY_HINT: KeyHint = {
  passphrase: "give the passphrase with --passphrase-file FILE or KSTATE_PASSPHRASE",
  awsKms: "give the key with --kms-key-id or KSTATE_AWS_KMS_KEY_ID",
};

/**
 * The state store: --state, else KSTATE_STATE_STORE, else KOPS_STATE_STORE, else kops_state_store
 * in kops's config file (--config FILE, ~/.kops.yaml or ~/.kops/config: see kops-config.ts). An
 * empty value counts as unset, as it does for kops.
 */
export function stateStore(flag: string | undefined, env: Record<string, string | undefined>, flagName = "--state"): string {
  const url = flag || env.KSTATE_STATE_STORE || env.KOPS_STATE_STORE || storeFromKopsConfig(env)?.url;
  if (!url) {
    const file = kopsConfigFile(env)?.file;
    throw new UsageError(`no state store: pass ${flagName} URL, or set KSTATE_STATE_STORE or KOPS_STATE_STORE, or put kops_state_store: URL in ${file ? `${file} (it sets none)` : "~/.kops.yaml"} (e.g. s3://my-kops-state)`);
  }
  // One trailing slash goes, as kops drops it; never the slashes of an empty `s3://`.
  return url.replace(/([^/])\/$/, "$1");
}

/**
 * Each command run's own clients and bucket facts: a run is handed its environment object once
 * (bin/kstate.js, or a test calling `run`), so the context lives and goes with it.
 */
const contexts = new WeakMap<Environment, VfsContext>();

/**
 * Marks a command run as one that only reads the store (get, export to a folder): its stores are
 * opened without learning ahead what a write would need. Call before opening anything.
 */
export function readsOnly(env: Environment): void {
  if (!contexts.has(env)) contexts.set(env, new VfsContext({ readsOnly: true }));
}

/** Any store or folder a command names (--state, --from, --to, an export folder), reached as `env` says. */
export function openUrl(url: string, env: Environment): VfsPath {
  let context = contexts.get(env);
  if (!context) contexts.set(env, (context = new VfsContext()));
  return openPath(url, { ...resolveStoreSettings({}, env), context });
}

/** The state store's own files, neither decrypted nor guarded: for reading what is stored as it is. */
export function openRawStore(flag: string | undefined, env: Environment): VfsPath {
  return openUrl(stateStore(flag, env), env);
}

/**
 * Client-side encryption from the environment. The current key: KSTATE_PASSPHRASE or
 * KSTATE_AWS_KMS_KEY_ID; the old key during a rotation (read only): KSTATE_FALLBACK_PASSPHRASE or
 * KSTATE_FALLBACK_AWS_KMS_KEY_ID; KSTATE_ENCRYPT_PATTERNS (comma-separated, default secrets/** and
 * pki/private/**); KSTATE_ENCRYPT_ENFORCE=1; KSTATE_ENCRYPT_BREAKS_KOPS=1 (seal files kops reads). AWS KMS is reached with the usual AWS_REGION,
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN and AWS_ENDPOINT_URL_KMS.
 */
export function encryptionFromEnv(env: Record<string, string | undefined>): ClusterEncryption | undefined {
  const key = (passphrase: string | undefined, kms: string | undefined) => (passphrase ? { passphrase } : kms ? { awsKmsKeyId: kms } : undefined);
  const current = key(env.KSTATE_PASSPHRASE, env.KSTATE_AWS_KMS_KEY_ID);
  const fallback = key(env.KSTATE_FALLBACK_PASSPHRASE, env.KSTATE_FALLBACK_AWS_KMS_KEY_ID);
  if (env.KSTATE_PASSPHRASE && env.KSTATE_AWS_KMS_KEY_ID) throw new UsageError("KSTATE_PASSPHRASE and KSTATE_AWS_KMS_KEY_ID are both set: the current key is one of them");
  if (env.KSTATE_FALLBACK_PASSPHRASE && env.KSTATE_FALLBACK_AWS_KMS_KEY_ID) throw new UsageError("KSTATE_FALLBACK_PASSPHRASE and KSTATE_FALLBACK_AWS_KMS_KEY_ID are both set: the fallback key is one of them");
  if (!current) {
    if (fallback) throw new UsageError("a fallback key is set without a current one: set KSTATE_PASSPHRASE or KSTATE_AWS_KMS_KEY_ID too");
    return undefined;
  }
  const usesKms = current.awsKmsKeyId !== undefined || fallback?.awsKmsKeyId !== undefined;
  const awsKms = {
    ...(env.AWS_REGION ?? env.AWS_DEFAULT_REGION ? { region: (env.AWS_REGION ?? env.AWS_DEFAULT_REGION)! } : {}),
    ...(env.AWS_ENDPOINT_URL_KMS ?? env.AWS_ENDPOINT_URL ? { endpoint: (env.AWS_ENDPOINT_URL_KMS ?? env.AWS_ENDPOINT_URL)! } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
      : {}),
  };
  return {
    ...current,
    ...(fallback ? { fallback } : {}),
    ...(usesKms ? { awsKms } : {}),
    ...(env.KSTATE_ENCRYPT_PATTERNS ? { patterns: env.KSTATE_ENCRYPT_PATTERNS.split(",").map((p) => p.trim()).filter(Boolean) } : {}),
    ...(env.KSTATE_ENCRYPT_ENFORCE === "1" || env.KSTATE_ENCRYPT_ENFORCE === "true" ? { enforce: true } : {}),
    ...(env.KSTATE_ENCRYPT_BREAKS_KOPS === "1" || env.KSTATE_ENCRYPT_BREAKS_KOPS === "true" ? { allowEncryptingKopsReads: true } : {}),
  };
}

/**
 * The state store (`stateStore`), opened with any client-side encryption the environment sets and
 * guarded by the store's recorded encryption policy (store/policy-guard.ts): every command that
 * writes opens the store here. Warns on `io.stderr` when the patterns would encrypt files kops
 * itself must read (`io.stderr` is read only then: a command makes the streams it uses, and none
 * before its first request).
 */
export function openStore(flag: string | undefined, env: Record<string, string | undefined>, io?: Pick<Io, "stderr">): VfsPath {
  const encryption = encryptionFromEnv(env);
  const unreadable = encryption ? unreadableByKops(encryption) : [];
  if (unreadable.length > 0) io?.stderr.write(`warning: KSTATE_ENCRYPT_PATTERNS encrypts ${unreadable.join(" and ")}; kops cannot read encrypted files\n`);
  return guardStore(openRawStore(flag, env), encryption, CLI_KEY_HINT);
}

/** The clusters of the state store (`openStore`), read with the group names this user last saw (group-names.ts). */
export function openClusterStore(flag: string | undefined, env: Record<string, string | undefined>, io?: Pick<Io, "stderr">): ClusterStore {
  return new ClusterStore(openStore(flag, env, io), groupNamesOnDisk(env));
}

/**
 * Refuses a store that is a local folder that is not there, as kops does ("open DIR: no such file
 * or directory"): a listing of it would be empty rather than fail. A bucket that is not there needs
 * no check; its first request fails, naming it.
 */
export async function requireStoreFolder(root: VfsPath): Promise<void> {
  const scheme = SCHEMES[parseUrl(root.url).scheme];
  if (!scheme.madeOnWrite || !scheme.bucketAdmin) return;
  if (!(await bucketAdmin(openPath(root.url)).settings()).exists) {
    throw new NotFoundError(`state store ${root.url} does not exist (no such folder)`, { url: root.url });
  }
}
