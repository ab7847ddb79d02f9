import { type ClusterEncryption, storeEncryption, unreadableByKops } from "../store/secrets";
import { openPath, type VfsPath } from "../vfs";
import { UsageError } from "./io";

/** The state store: --state, else KSTATE_STATE_STORE, else KOPS_STATE_STORE. */
export function stateStore(flag: string | undefined, env: Record<string, string | undefined>): string {
  const url = flag ?? env.KSTATE_STATE_STORE ?? env.KOPS_STATE_STORE;
  if (!url) throw new UsageError("no state store: pass --state URL, or set KSTATE_STATE_STORE or KOPS_STATE_STORE (e.g. s3://my-kops-state)");
  return url.replace(/\/$/, "");
}

/**
 * Client-side encryption from the environment: KSTATE_PASSPHRASE (the current key),
 * KSTATE_FALLBACK_PASSPHRASE (the old key, read only, during a rotation), KSTATE_ENCRYPT_PATTERNS
 * (comma-separated, default secrets/** and pki/private/**), KSTATE_ENCRYPT_ENFORCE=1.
 */
export function encryptionFromEnv(env: Record<string, string | undefined>): ClusterEncryption | undefined {
  if (!env.KSTATE_PASSPHRASE) {
    if (env.KSTATE_FALLBACK_PASSPHRASE) throw new UsageError("KSTATE_FALLBACK_PASSPHRASE is set without KSTATE_PASSPHRASE: give the current key too");
    return undefined;
  }
  return {
    passphrase: env.KSTATE_PASSPHRASE,
    ...(env.KSTATE_FALLBACK_PASSPHRASE ? { fallback: { passphrase: env.KSTATE_FALLBACK_PASSPHRASE } } : {}),
    ...(env.KSTATE_ENCRYPT_PATTERNS ? { patterns: env.KSTATE_ENCRYPT_PATTERNS.split(",").map((p) => p.trim()).filter(Boolean) } : {}),
    ...(env.KSTATE_ENCRYPT_ENFORCE === "1" || env.KSTATE_ENCRYPT_ENFORCE === "true" ? { enforce: true } : {}),
  };
}

/**
 * The state store (`stateStore`), opened with any client-side encryption the environment sets.
 * Warns on `stderr` when the patterns would encrypt files kops itself must read.
 */
export function openStore(flag: string | undefined, env: Record<string, string | undefined>, stderr?: { write(s: string): unknown }): VfsPath {
  const encryption = encryptionFromEnv(env);
  const unreadable = encryption ? unreadableByKops(encryption) : [];
  if (unreadable.length > 0) stderr?.write(`warning: KSTATE_ENCRYPT_PATTERNS encrypts ${unreadable.join(" and ")}; kops cannot read encrypted files\n`);
  return openPath(stateStore(flag, env), encryption ? { clientSideEncryption: storeEncryption(encryption) } : {});
}
