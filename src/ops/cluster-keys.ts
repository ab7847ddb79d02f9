/**
 * The keys a manager keeps for a cluster, where kops keeps them: the admin SSH public key
 * (`pki/ssh/public/admin/<fingerprint>`) and a cluster CA brought along (the primary of the
 * `kubernetes-ca` keyset). A key another writer put there is never replaced without `takeOver`;
 * a key the manager put there itself (its previous one) is replaced when the program changes it.
 * A key that was there already when the manager first asked for it (kops put it there, say) is
 * "found": shared, as a field that had the value before the first apply, so it stays another
 * writer's when the program moves on to another key.
 * Keys are cluster state: a manager that stops setting one leaves it (nodes and `kops update` need
 * it); they go with the cluster, when its config goes.
 */
import type { ClusterStore } from "../store/cluster-store";
import { CA_KEYSET, findPrimary, keysetFile } from "../store/keyset";
import { type AdminSshKeyPlan, applyAdminSshKey, planAdminSshKey, readAdminSshKeys } from "./admin-ssh-key";
import { parseCertificatePem } from "./certificates";
import { applyKeypairPlan, isNoop, type KeypairPlan, planCaImport, readKeyset } from "./keypairs";
import { keysKeptElsewhere, planSshPublicKey } from "./ssh-key";
import type { Problem } from "./validate";

export interface ClusterKeysRequest {
  /** The admin SSH public key, as an OpenSSH public key line. */
  sshPublicKey?: string;
  /** The cluster CA (PEM certificate and private key), made the primary of `kubernetes-ca`. */
  ca?: { cert: string; key: string };
  /** What the manager kept last time: the fingerprint of its SSH key, the PEM of its CA, and whether each was found there. */
  previous?: { sshFingerprint?: string; caCert?: string; sshFound?: boolean; caFound?: boolean };
}

/** Keys found stored, not written by the manager (see above). */
export interface KeysFound {
  ssh?: boolean;
  ca?: boolean;
}

export interface ClusterKeysPlan {
  ssh?: AdminSshKeyPlan;
  ca?: KeypairPlan;
  /** One line a changed file, as the rest of the plan prints them. */
  lines: string[];
  /** The files the manager's keys are in once applied (for a delete that takes the cluster). */
  files: string[];
  /** Which of the keys were found stored rather than written by the manager. */
  found: KeysFound;
}

/** The fingerprint (`aa:bb:…`) of an SSH public key line. */
export function sshFingerprint(key: string): string {
  return planSshPublicKey(key, "sshPublicKey").fingerprint;
}

/** Whether two PEM texts hold the same certificate (line breaks and armour aside). */
export function samePem(a: string | undefined, b: string | undefined): boolean {
  const body = (pem: string | undefined) => pem?.replace(/-----[^-]+-----|\s/g, "");
  return a !== undefined && b !== undefined && body(a) === body(b);
}

/**
 * Plans the manager's keys. Problems (a key that is not one, keys kept in another store) and
 * conflicts (another writer's key in the way) are pushed onto the lists given, as the
 * documents' are.
 */
export async function planClusterKeys(store: ClusterStore, cluster: string, req: ClusterKeysRequest, config: Record<string, unknown> | undefined, takeOver: boolean, problems: Problem[], conflicts: Problem[], storeUrl?: string): Promise<ClusterKeysPlan> {
  const out: ClusterKeysPlan = { lines: [], files: [], found: {} };
  const previous = req.previous ?? {};
  if (req.sshPublicKey !== undefined) {
    let key;
    try {
      key = planSshPublicKey(req.sshPublicKey, "sshPublicKey");
    } catch (e) {
      problems.push({ path: "sshPublicKey", message: (e as Error).message.replace(/^sshPublicKey: /, "") });
    }
    // A plan made on a stand-in (the bucket is not made yet) keeps its keys where the request's store will.
    const elsewhere = key ? keysKeptElsewhere(store, cluster, config, storeUrl) : undefined;
    if (elsewhere) problems.push({ path: "sshPublicKey", message: elsewhere });
    else if (key) {
      const stored = await readAdminSshKeys(store, cluster);
      const kept = stored.find((s) => s.file === key.file) ?? stored.find((s) => s.fingerprint === key.fingerprint);
      const others = stored.filter((s) => s !== kept);
      const mine = previous.sshFingerprint !== undefined && !previous.sshFound;
      const ours = others.every((s) => s.fingerprint !== undefined && ((mine && s.fingerprint === previous.sshFingerprint) || s.fingerprint === key.fingerprint));
      if (kept) out.found.ssh = previous.sshFingerprint === key.fingerprint ? previous.sshFound === true : true;
      if (others.length > 0 && !ours && !takeOver) {
        conflicts.push({ file: others[0]!.file, path: "sshPublicKey", message: `another admin SSH key (${others.map((s) => s.fingerprint ?? "not a key").join(", ")}) is stored, put there by another writer; kops takes exactly one` });
      } else {
        out.ssh = planAdminSshKey(cluster, stored, key, { replace: true });
        out.lines.push(...out.ssh.lines);
      }
      out.files.push(kept?.file ?? key.file);
    }
  }
  if (req.ca !== undefined) {
    try {
      const stored = await readKeyset(store, cluster, CA_KEYSET);
      const primary = stored ? findPrimary(stored.keyset) : undefined;
      const already = samePem(primary?.publicMaterial, req.ca.cert);
      const mine = already || (samePem(primary?.publicMaterial, previous.caCert) && !previous.caFound);
      if (already) out.found.ca = samePem(previous.caCert, req.ca.cert) ? previous.caFound === true : true;
      if (primary && !mine && !takeOver) {
        conflicts.push({ file: keysetFile(CA_KEYSET), path: "ca", message: `the cluster CA's primary key ${primary.id} was not put there by this manager; replacing it rotates the CA of a cluster that may be running (kstate create keypair / promote keypair do that by hand)` });
      } else {
        const plan = await planCaImport(store, cluster, req.ca);
        // kops ids a key by the clock unless its certificate's serial will do: such an id is the
        // time of writing, never shown as if a preview could know it.
        const serial = parseCertificatePem(req.ca.cert, "ca.cert").serial.toString();
        if (plan.id !== undefined && plan.id !== serial) plan.lines = plan.lines.map((l) => l.split(plan.id!).join("(an id given when written)"));
        if (!isNoop(plan)) {
          out.ca = plan;
          out.lines.push(...plan.lines);
        }
      }
      out.files.push(keysetFile(CA_KEYSET));
    } catch (e) {
      problems.push({ path: "ca", message: (e as Error).message });
    }
  }
  return out;
}

/** Writes the planned keys, each conditional on what was read. */
export async function applyClusterKeys(store: ClusterStore, cluster: string, plan: ClusterKeysPlan): Promise<void> {
  if (plan.ssh) await applyAdminSshKey(store.cluster(cluster), plan.ssh);
  if (plan.ca) await applyKeypairPlan(store, plan.ca);
}
