/**
 * An admin kubeconfig as `kops export kubeconfig --admin` writes it (pkg/kubeconfig): the server
 * kops picks from the cluster spec, the trusted `kubernetes-ca` certificates as the cluster's CA,
 * and a fresh client certificate (CN kubecfg-USER, O system:masters) signed by the keyset's primary
 * key, backdated 48 hours and valid the requested lifetime from now. Cluster, context and user
 * all take the cluster's name; merging into a kubeconfig replaces those three and keeps the rest.
 */
import { isIPv6 } from "node:net";
import type { ClusterStore } from "../store/cluster-store";
import { CA_KEYSET, findPrimary, idOlder, keysetFile } from "../store/keyset";
import { newDocument, parseYamlValues, stringifyYaml } from "../store/yaml";
import { NotFoundError, RefusedError, ValidationError } from "../vfs/errors";
import { BACKDATE_MS, generatePrivateKey, issueCertificate, parseCertificatePem, parsePrivateKeyPem, randomSerial } from "./certificates";
import { readKeyset } from "./keypairs";

/** kops's default --admin lifetime: 18 hours. */
export const DEFAULT_ADMIN_LIFETIME_SECONDS = 18 * 3600;

export interface KubeconfigOptions {
  /** The client certificate's lifetime; default 18 hours. */
  lifetimeSeconds?: number;
  /** The API's internal name (`api.internal.NAME`). */
  internal?: boolean;
  now?: Date;
  /** The user whose name kops appends to the CN (`kubecfg-USER`); `kubecfg` alone without one. */
  userName?: string;
}

type Doc = Record<string, any>;

export interface KubeconfigEntries {
  name: string;
  cluster: Doc;
  user: Doc;
  /** What kops would do that kstate cannot (ask a cloud for a load balancer's address). */
  warnings: string[];
}

function wrapIPv6(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** The API server as kops chooses it (BuildKubecfg), and whether the CA goes in the kubeconfig. */
export function apiServer(cluster: string, spec: Doc, options: { internal?: boolean; admin: boolean }): { server: string; includeCa: boolean; warnings: string[] } {
  const api = (spec.api ?? {}) as Doc;
  const lb = api.loadBalancer as Doc | undefined;
  const warnings: string[] = [];
  let server: string;
  if (options.internal) server = `https://api.internal.${cluster}`;
  else {
    // kops's API.PublicName, stored in v1alpha2 as spec.masterPublicName.
    const publicName = spec.masterPublicName;
    server = `https://${typeof publicName === "string" && publicName !== "" ? wrapIPv6(publicName) : `api.${cluster}`}`;
    if (lb && (!lb.sslCertificate || options.admin)) {
      warnings.push(`the API is behind a load balancer: kops would ask the cloud for its address; kstate uses ${server} (pass --internal for api.internal.${cluster})`);
    }
  }
  if (options.admin && lb?.sslCertificate && lb.class === "Network") server += ":8443";
  const includeCa = !lb || !lb.sslCertificate || lb.class === "Network" || options.internal === true;
  return { server, includeCa, warnings };
}

/** The kubeconfig entries kops writes for `cluster` with --admin. */
export async function buildAdminKubeconfig(store: ClusterStore, cluster: string, options: KubeconfigOptions = {}): Promise<KubeconfigEntries> {
  const config = await store.readConfigValues(cluster);
  if (!config) throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found in ${store.root.url}`, { url: store.configPath(cluster).url });
  const lifetime = options.lifetimeSeconds ?? DEFAULT_ADMIN_LIFETIME_SECONDS;
  if (!Number.isFinite(lifetime) || lifetime <= 0) throw new ValidationError(`the admin credential's lifetime must be a positive duration (got ${lifetime} seconds)`);
  const { server, includeCa, warnings } = apiServer(cluster, (config.spec ?? {}) as Doc, { internal: options.internal, admin: true });

  const stored = await readKeyset(store, cluster, CA_KEYSET);
  const hint = `run \`kops update cluster ${cluster}\` or \`kstate create keypair ${CA_KEYSET} --generate --primary --name ${cluster}\``;
  if (!stored) throw new RefusedError(`cluster ${cluster} has no ${CA_KEYSET} keyset in the store (no ${keysetFile(CA_KEYSET)}): ${hint}`);
  const primary = findPrimary(stored.keyset);
  if (!primary?.publicMaterial || !primary.privateMaterial) throw new RefusedError(`keyset ${CA_KEYSET} of ${cluster} has no trusted primary keypair with a private key to sign with: ${hint}`);
  const source = `${stored.file} key ${primary.id}`;
  const issuer = { certificate: parseCertificatePem(primary.publicMaterial, source), key: parsePrivateKeyPem(primary.privateMaterial, source) };
  if (issuer.key.key.asymmetricKeyType !== "rsa") {
    throw new RefusedError(`keyset ${CA_KEYSET} of ${cluster}: the primary key ${primary.id} is an ${String(issuer.key.key.asymmetricKeyType).toUpperCase()} key, and kstate signs admin certificates with RSA CA keys only (kops export kubeconfig --admin signs with this one); nothing was written`);
  }

  // The CA bundle: every trusted certificate, oldest id first.
  const trusted = stored.keyset.keys.filter((k) => !k.distrustTimestamp && k.publicMaterial).sort((a, b) => (idOlder(a.id, b.id) ? -1 : idOlder(b.id, a.id) ? 1 : 0));
  const caBundle = trusted.map((k) => parseCertificatePem(k.publicMaterial!, `${stored.file} key ${k.id}`).pem).join("");

  const now = options.now ?? new Date();
  const key = generatePrivateKey();
  const client = issueCertificate({
    type: "client",
    commonName: options.userName ? `kubecfg-${options.userName}` : "kubecfg",
    organization: ["system:masters"],
    serial: randomSerial(),
    key,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + lifetime * 1000),
    issuer,
  });
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return {
    name: cluster,
    cluster: { ...(includeCa ? { "certificate-authority-data": b64(caBundle) } : {}), server, "tls-server-name": `api.internal.${cluster}` },
    user: { "client-certificate-data": b64(client.pem), "client-key-data": b64(key.pem) },
    warnings,
  };
}

/**
 * `entries` merged into a kubeconfig's text (undefined for none), as kubectl merges: other
 * clusters, contexts and users stay; those named like the cluster are replaced; the current
 * context becomes the cluster's. `source` names the file in errors.
 */
export function mergeKubeconfig(existing: string | undefined, entries: KubeconfigEntries, source = "kubeconfig"): string {
  const parsed = existing === undefined || existing.trim() === "" ? {} : parseYamlValues(existing, source);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ValidationError(`${source}: not a kubeconfig (no mapping at the top); nothing was written`);
  const config = { ...(parsed as Doc) };
  // What kubectl would refuse to load is never replaced: another kind of document, or lists that are not lists.
  const notOne = (why: string) => new ValidationError(`${source}: not a kubeconfig (${why}); nothing was written`);
  if (config.kind !== undefined && config.kind !== "Config") throw notOne(`kind is ${JSON.stringify(config.kind)}, not Config`);
  if (config.apiVersion !== undefined && config.apiVersion !== "v1") throw notOne(`apiVersion is ${JSON.stringify(config.apiVersion)}, not v1`);
  for (const list of ["clusters", "contexts", "users"]) {
    const items = config[list];
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items) || items.some((e) => typeof e !== "object" || e === null || Array.isArray(e))) throw notOne(`${list} is not a list of named entries`);
  }
  const put = (list: string, field: string, value: Doc) => {
    const items = Array.isArray(config[list]) ? (config[list] as Doc[]).filter((e) => e?.name !== entries.name) : [];
    items.push({ name: entries.name, [field]: value });
    config[list] = items.sort((a, b) => (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0));
  };
  put("clusters", "cluster", entries.cluster);
  put("contexts", "context", { cluster: entries.name, user: entries.name });
  put("users", "user", entries.user);
  config["current-context"] = entries.name;
  config.apiVersion ??= "v1";
  config.kind ??= "Config";
  return stringifyYaml(newDocument(config));
}

/** The admin kubeconfig's YAML for `cluster` (for the Pulumi side): a kubeconfig of its own. */
export async function adminKubeconfig(store: ClusterStore, cluster: string, options: KubeconfigOptions = {}): Promise<string> {
  return mergeKubeconfig(undefined, await buildAdminKubeconfig(store, cluster, options));
}
