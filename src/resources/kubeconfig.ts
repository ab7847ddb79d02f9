/**
 * An admin kubeconfig for a cluster in a store, as `kops export kubeconfig --admin` makes it: the
 * API server from the cluster's spec, the cluster CA from the store, and a fresh client
 * certificate (O=system:masters) signed by the CA kept there. For a `@pulumi/kubernetes`
 * Provider's `kubeconfig`. Each run mints a new certificate, as kops does; the result is a secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseGoDuration } from "../ops/duration";
import { adminKubeconfig, DEFAULT_ADMIN_LIFETIME_SECONDS } from "../ops/kubeconfig";
import { ClusterStore } from "../store/cluster-store";
import { type ClusterEncryption, storeEncryption } from "../store/secrets";
import { openPath, schemeOfUrl } from "../vfs";
import { accessOf, accessProblems, type StoreAccess, storeSettingsOf, withKmsDefaults } from "../providers/store-access";
import { NotFoundError, RefusedError, ValidationError } from "../vfs/errors";

/** How the store is reached (endpoint, region, credentials) is StoreAccess's, as for a StateStore; the program's environment fills in the rest. */
export interface GetKubeconfigArgs extends StoreAccess {
  /** The state store URL: `s3://bucket`, `gs://bucket`, `file:///dir`. */
  store: string;
  /** The cluster name, e.g. dev.k8s.example.com. */
  name: string;
  /** The admin certificate's lifetime, as kops's `--admin=` takes it (`18h`, the default; `30m`; `1h30m`). */
  admin?: string;
  /** Use the API's internal name (`api.internal.NAME`), as `--internal`. */
  internal?: boolean;
  /** The store's client-side encryption keys, when `pki/private/**` is sealed. */
  clientSideEncryption?: ClusterEncryption;
}

export interface GetKubeconfigResult {
  /** The kubeconfig's YAML: one cluster, user and context, named as the cluster. */
  kubeconfig: string;
  /** When the client certificate stops working (RFC 3339). */
  expires: string;
}

/** Reads the store and mints the kubeconfig. */
export async function getKubeconfig(args: GetKubeconfigArgs): Promise<GetKubeconfigResult> {
  const problems = accessProblems(args, schemeOfUrl(args.store));
  if (problems.length > 0) {
    throw new ValidationError(`getKubeconfig: ${problems.map((p) => `${p.property}: ${p.reason}`).join("; ")}`, { problems: problems.map((p) => ({ path: p.property, message: p.reason })) });
  }
  const lifetime = args.admin === undefined ? DEFAULT_ADMIN_LIFETIME_SECONDS : parseGoDuration(args.admin, "admin");
  const settings = storeSettingsOf(accessOf(args));
  const root = openPath(args.store, args.clientSideEncryption ? { ...settings, clientSideEncryption: storeEncryption(withKmsDefaults(args.clientSideEncryption)) } : settings);
  const now = new Date();
  const kubeconfig = await adminKubeconfig(new ClusterStore(root), args.name, { lifetimeSeconds: lifetime, internal: args.internal === true, now });
  return { kubeconfig, expires: new Date(now.getTime() + lifetime * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") };
}

/**
 * `getKubeconfig` for inputs that are outputs (a ClusterConfig's `store` and `name`); the result
 * is a secret. In a preview, a cluster or CA that is not stored yet (the same program, or `kops
 * update`, makes it) gives an unknown value, as an output of a resource not yet created would be.
 */
export function getKubeconfigOutput(args: { [K in keyof GetKubeconfigArgs]: pulumi.Input<GetKubeconfigArgs[K]> }): pulumi.Output<GetKubeconfigResult> {
  return pulumi.secret(pulumi.output(args).apply(async (a): Promise<GetKubeconfigResult | pulumi.Output<GetKubeconfigResult>> => {
    try {
      return await getKubeconfig(a as GetKubeconfigArgs);
    } catch (e) {
      if (pulumi.runtime.isDryRun() && (NotFoundError.isInstance(e) || RefusedError.isInstance(e))) return pulumi.output(pulumi.unknown) as pulumi.Output<GetKubeconfigResult>;
      throw e;
    }
  }));
}
