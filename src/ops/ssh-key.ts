/**
 * The admin SSH public key as `kops create cluster --ssh-public-key` stores it: the file's bytes,
 * unchanged, at `pki/ssh/public/admin/<id>`, where the id is the MD5 of the key's wire encoding in
 * lowercase hex (kops's pkg/sshcredentials `Fingerprint`, colons dropped by the VFS keystore). It
 * is the MD5 fingerprint `ssh-keygen -l -E md5` prints, and what `kops get sshpublickeys` lists.
 */
import { createHash } from "node:crypto";
import type { ClusterStore } from "../store/cluster-store";
import { configBaseOf, SSH_PUBLIC_KEY_DIR, sshPublicKeyFile } from "../store/layout";
import { AlreadyExistsError, NotFoundError, RefusedError, ValidationError } from "../vfs/errors";

export interface PlannedSshKey {
  /** The file, relative to the cluster's folder: `pki/ssh/public/admin/<id>`. */
  file: string;
  /** `aa:bb:…`, as `kops get sshpublickeys` prints it. */
  fingerprint: string;
  /** What kops writes: the key file's bytes as they are. */
  body: Buffer;
  /** The key file's text trimmed, as an SSHCredential's `spec.publicKey` holds it. */
  publicKey: string;
  /** The key type, e.g. `ssh-ed25519`. */
  type: string;
}

type Field = "string" | "mpint";

/** The fields after the type name in each key type's wire encoding (RFC 4253, 5656, 8709; OpenSSH PROTOCOL.u2f). */
const LAYOUTS: Record<string, Field[]> = {
  "ssh-rsa": ["mpint", "mpint"],
  "ssh-dss": ["mpint", "mpint", "mpint", "mpint"],
  "ecdsa-sha2-nistp256": ["string", "string"],
  "ecdsa-sha2-nistp384": ["string", "string"],
  "ecdsa-sha2-nistp521": ["string", "string"],
  "ssh-ed25519": ["string"],
  "sk-ecdsa-sha2-nistp256@openssh.com": ["string", "string", "string"],
  "sk-ssh-ed25519@openssh.com": ["string", "string"],
};

const POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** Splits an SSH wire-encoded blob into its length-prefixed fields; undefined when it does not split exactly. */
function fields(blob: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const n = blob.readUInt32BE(at);
    if (at + 4 + n > blob.length) return undefined;
    out.push(blob.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

/** An mpint as Go's ssh.Marshal writes it: no redundant leading zero bytes, one added when the top bit is set. */
function canonicalMpint(b: Buffer): Buffer | undefined {
  if (b.length > 0 && (b[0]! & 0x80) !== 0) return undefined; // negative: no key has one
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  const magnitude = b.subarray(i);
  return magnitude.length > 0 && (magnitude[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
}

function frame(parts: Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    return [len, p];
  }));
}

/**
 * The key in a wire-encoded blob, re-encoded as Go's ssh package marshals it (the bytes kops
 * hashes), or the reason it is not a public key.
 */
function parseBlob(blob: Buffer): { type: string; wire: Buffer } | { reason: string } {
  const parts = fields(blob);
  if (!parts || parts.length === 0) return { reason: "the key data is not an SSH wire encoding" };
  const type = parts[0]!.toString("latin1");
  if (type.endsWith("-cert-v01@openssh.com")) return { reason: `${type} is a certificate; give the public key itself` };
  const layout = LAYOUTS[type];
  if (!layout) return { reason: `unknown key type ${JSON.stringify(type)}` };
  const rest = parts.slice(1);
  if (rest.length !== layout.length) return { reason: `a ${type} key has ${layout.length} fields after its type, this one ${rest.length}` };
  const wire: Buffer[] = [parts[0]!];
  for (const [i, kind] of layout.entries()) {
    if (kind === "string") {
      wire.push(rest[i]!);
      continue;
    }
    const m = canonicalMpint(rest[i]!);
    if (!m) return { reason: `${type}: a negative number in the key` };
    wire.push(m);
  }
  if (type === "ssh-rsa") {
    const e = wire[1]!;
    const odd = e.length > 0 && (e[e.length - 1]! & 1) === 1;
    if (e.length > 3 || !odd || (e.length === 1 && e[0]! < 3)) return { reason: "ssh-rsa: the exponent is not an odd number from 3 to 2^24" };
  }
  if (type === "ssh-ed25519" || type === "sk-ssh-ed25519@openssh.com") {
    if (wire[1]!.length !== 32) return { reason: `${type}: the key is ${wire[1]!.length} bytes, not 32` };
  }
  if (type.includes("ecdsa-sha2-")) {
    const curve = type.replace(/^(sk-)?ecdsa-sha2-/, "").replace(/@openssh\.com$/, "");
    if (wire[1]!.toString("latin1") !== curve) return { reason: `${type}: the curve is ${JSON.stringify(wire[1]!.toString("latin1"))}, not ${curve}` };
    const point = wire[2]!;
    if (point.length !== POINT_BYTES[curve] || point[0] !== 4) return { reason: `${type}: the point is not an uncompressed ${curve} point` };
  }
  return { type, wire: frame(wire) };
}

/**
 * Plans the admin SSH public key file from a key file's contents, as kops reads it
 * (`ssh.ParseAuthorizedKey`: the first line holding a key, blank and `#` lines skipped, an
 * `authorized_keys` options prefix allowed). Throws `ValidationError` naming `source` when the
 * contents hold no OpenSSH public key (a private key, a PEM or PuTTY file, a certificate).
 */
export function planSshPublicKey(data: Buffer | string, source: string): PlannedSshKey {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data, "utf8");
  const text = body.toString("utf8");
  let reason = "no line holds a key (expected e.g. `ssh-ed25519 AAAAC3Nz… you@host`)";
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) reason = "it is a private key; give the .pub file";
  else if (/^---- BEGIN SSH2 PUBLIC KEY ----/m.test(text)) reason = "it is an RFC 4716 (SSH2) key; convert it with `ssh-keygen -i -f FILE`";
  else if (/^PuTTY-User-Key-File/m.test(text)) reason = "it is a PuTTY key; export the OpenSSH public key";
  else {
    for (const raw of text.split("\n")) {
      const line = raw.split("\r")[0]!.trim();
      if (line === "" || line.startsWith("#")) continue;
      // The key data is the first base64 field after a type name (any options come before it).
      const words = line.split(/[ \t]+/);
      const certificate = words.find((w) => /-cert-v0[01]@openssh\.com$/.test(w));
      if (certificate) {
        reason = `${certificate} is a certificate; give the public key itself`;
        continue;
      }
      for (let i = 1; i < words.length; i++) {
        const word = words[i]!;
        if (!/^[A-Za-z0-9+/]+={0,2}$/.test(word) || word.length % 4 !== 0) continue;
        const parsed = parseBlob(Buffer.from(word, "base64"));
        if ("reason" in parsed) {
          reason = parsed.reason;
          continue;
        }
        const hex = createHash("md5").update(parsed.wire).digest("hex");
        return {
          file: sshPublicKeyFile(hex),
          fingerprint: hex.match(/../g)!.join(":"),
          body,
          publicKey: text.trim(),
          type: parsed.type,
        };
      }
    }
  }
  throw new ValidationError(`${source}: not an OpenSSH public key: ${reason}`, { problems: [{ path: "sshPublicKey", message: reason }] });
}

/**
 * Where a cluster keeps its keys (`keypairs`) or its secrets when that is not its folder in this
 * store (`spec.keyStore` or `spec.secretStore`, or a configBase elsewhere): kops reads them from there.
 * `storeUrl` names the store as the request does, where `store` is a stand-in for it (a plan made
 * before the bucket exists).
 */
export function keptElsewhere(store: ClusterStore, cluster: string, config: Record<string, unknown> | undefined, what: "keypairs" | "secrets", storeUrl?: string): string | undefined {
  const spec = config?.spec as { configBase?: unknown; keyStore?: unknown; secretStore?: unknown } | undefined;
  const configured = what === "keypairs" ? spec?.keyStore : spec?.secretStore;
  const configBase = spec?.configBase;
  const home = storeUrl === undefined ? store.cluster(cluster).url : `${storeUrl.replace(/\/$/, "")}/${cluster}`;
  const folder = what === "keypairs" ? "pki" : "secrets";
  if (configured === undefined ? configBase === undefined || configBase === configBaseOf(home) : configured === `${configBaseOf(home)}/${folder}`) return undefined;
  return `cluster ${cluster} keeps its ${what === "keypairs" ? "keys" : "secrets"} in ${String(configured ?? `${String(configBase)}/${folder}`)}, not in ${storeUrl ?? store.root.url}`;
}

/** `keptElsewhere` for keys: kops reads its SSH key and keypairs from there. */
export function keysKeptElsewhere(store: ClusterStore, cluster: string, config: Record<string, unknown> | undefined, storeUrl?: string): string | undefined {
  return keptElsewhere(store, cluster, config, "keypairs", storeUrl);
}

/**
 * The key to write for a cluster, or undefined when it is there already. Refused when the cluster
 * keeps its keys elsewhere (`spec.keyStore`, or a configBase in another store) or holds
 * another admin key: kops then fails on AWS, Azure and OpenStack ("exactly one 'admin' SSH public key").
 */
export async function planKeyWrite(store: ClusterStore, cluster: string, key: PlannedSshKey, configAfter: Record<string, unknown> | undefined, listing?: Promise<string[]>): Promise<PlannedSshKey | undefined> {
  const folder = store.cluster(cluster).join(...SSH_PUBLIC_KEY_DIR.split("/"));
  const elsewhere = keysKeptElsewhere(store, cluster, configAfter);
  if (elsewhere) throw new RefusedError(`--ssh-public-key: ${elsewhere}; add the key with kops create sshpublickey. Nothing was written.`, { url: folder.url });
  const stored = await (listing ?? listAdminKeys(store, cluster));
  const id = key.file.slice(SSH_PUBLIC_KEY_DIR.length + 1);
  const others = stored.filter((s) => s !== id);
  if (others.length > 0) {
    throw new RefusedError(`--ssh-public-key: cluster ${cluster} already has another admin SSH key (${others.map((s) => s.match(/../g)?.join(":") ?? s).join(", ")}); kops takes only one. Delete it first with kops delete sshpublickey. Nothing was written.`, { url: folder.url });
  }
  return stored.includes(id) ? undefined : key;
}

/** The admin SSH keys stored, by file name (a listing that can start beside the cluster's reads). */
export async function listAdminKeys(store: ClusterStore, cluster: string): Promise<string[]> {
  try {
    return (await store.cluster(cluster).join(...SSH_PUBLIC_KEY_DIR.split("/")).list()).map((f) => f.path);
  } catch (e) {
    if (!NotFoundError.isInstance(e)) throw e;
    return [];
  }
}

/** Writes the key, once: a key written meanwhile under its name (its fingerprint) is this key. */
export async function writeSshPublicKey(store: ClusterStore, cluster: string, key: PlannedSshKey): Promise<void> {
  try {
    await store.cluster(cluster).join(...key.file.split("/")).create(key.body);
  } catch (e) {
    if (!AlreadyExistsError.isInstance(e)) throw e;
  }
}
