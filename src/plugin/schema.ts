/**
 * The `kstate` Pulumi package's schema: the resources and the function the provider plugin
 * (`pulumi-resource-kstate`) serves to programs in any Pulumi language, with the same inputs and
 * outputs as the TypeScript classes. Each resource's properties are listed against the provider's
 * own input and output types, so a field added there and not here does not compile.
 */
import type { ClusterConfigInputs, ClusterConfigOutputs } from "../providers/cluster-config";
import type { ClusterUpdateInputs, ClusterUpdateOutputs } from "../providers/cluster-update";
import type { MigrationInputs, MigrationOutputs } from "../providers/migration";
import type { StateStoreInputs, StateStoreOutputs } from "../providers/state-store";
import type { StoreAccess } from "../providers/store-access";
import type { GetKubeconfigArgs, GetKubeconfigResult } from "../resources/kubeconfig";

/** One property, as a Pulumi schema describes it. */
export interface Property {
  type?: "string" | "boolean" | "integer" | "number" | "array" | "object";
  items?: Property;
  additionalProperties?: Property;
  $ref?: string;
  description: string;
  secret?: boolean;
}

const string = (description: string): Property => ({ type: "string", description });
const boolean = (description: string): Property => ({ type: "boolean", description });
const integer = (description: string): Property => ({ type: "integer", description });
const strings = (description: string): Property => ({ type: "array", items: { type: "string", description: "" }, description });
const stringMap = (description: string): Property => ({ type: "object", additionalProperties: { type: "string", description: "" }, description });
/** A structured value (a kops spec, options, settings) taken as it is; the provider checks it. */
const any = (description: string): Property => ({ $ref: "pulumi.json#/Any", description });
const secret = (p: Property): Property => ({ ...p, secret: true });

type Properties<K extends string> = { readonly [P in K]-?: Property };

const ACCESS: Properties<keyof StoreAccess> = {
  endpoint: string("An S3-compatible or GCS-emulator endpoint; default S3_ENDPOINT (s3://) or STORAGE_EMULATOR_HOST (gs://)."),
  region: string("The bucket's region (S3) or location (GCS)."),
  project: string("The Google Cloud project (gs://); default GOOGLE_CLOUD_PROJECT."),
  accessKeyId: string("Static S3 credentials (s3://); default from the environment."),
  secretAccessKey: secret(string("Its secret.")),
  sessionToken: secret(string("A session token for temporary credentials.")),
};

const ENCRYPTION = secret(any("Client-side encryption: { passphrase } or { awsKmsKeyId }, with optional patterns (README, Client-side encryption)."));

const STATE_STORE_INPUTS: Properties<keyof StateStoreInputs> = {
  url: string("s3://bucket, gs://bucket or file:///abs/dir."),
  versioning: boolean("Keep old versions of every file (default on for s3:// and gs://)."),
  encryption: string("Default encryption: AES256 or aws:kms on S3, google-managed or cloud-kms on GCS."),
  kmsKeyId: string("The KMS key for aws:kms or cloud-kms."),
  forceDestroy: boolean("Delete the store with everything in it on destroy (default off: a non-empty store is refused)."),
  adoptExisting: boolean("Take over a bucket that already exists instead of failing (default off)."),
  clientSideEncryption: ENCRYPTION,
  ...ACCESS,
};

/** Outputs the plugin adds to a StateStore's: the policies the TypeScript class computes from its outputs. */
export const STATE_STORE_POLICIES = {
  readPolicy: any("IAM policy document to read the store (s3:// stores)."),
  writePolicy: any("IAM policy document to read and write the store (s3:// stores)."),
  readBindings: any("Role bindings to read the store (gs:// stores)."),
  writeBindings: any("Role bindings to read and write the store (gs:// stores)."),
} as const;

const STATE_STORE_OUTPUTS: Properties<keyof StateStoreOutputs | keyof typeof STATE_STORE_POLICIES> = {
  ...STATE_STORE_INPUTS,
  bucket: string("The bucket's name (or the folder, for file://)."),
  scheme: string("s3, gs or file."),
  adopted: boolean("True when the bucket existed before and was adopted."),
  publicAccessBlocked: boolean("Whether public access is blocked (s3://)."),
  schemaVersion: integer("The version of this resource's state."),
  ...STATE_STORE_POLICIES,
};

/** What a program gives a ClusterConfig: `manager` comes from the resource's URN, the rest from state. */
type ClusterConfigSettable = Exclude<keyof ClusterConfigInputs, "manager" | "ownedValues" | "keysFound">;

const CLUSTER_CONFIG_INPUTS: Properties<ClusterConfigSettable> = {
  store: string("The state store's URL (s3://bucket, gs://bucket, file:///dir); a StateStore's url."),
  name: string("The cluster's name, e.g. dev.k8s.example.com."),
  options: any("kops create-cluster flags (cloud, zones, nodeCount, nodeSize, kubernetesVersion, …), merged into what is stored."),
  spec: any("Merged into the stored Cluster's spec; null removes a field."),
  instanceGroups: any("Merged into each named InstanceGroup's spec (a new name creates the group); null removes a field."),
  onConflict: string("fail (default) or overwrite, when a field another owner set would change."),
  deleteClusterState: boolean("Delete the cluster's files on destroy (default off)."),
  secrets: secret(stringMap("kops secrets by name (secrets/NAME).")),
  clientSideEncryption: ENCRYPTION,
  sshPublicKey: string("The admin SSH public key."),
  ca: secret(any("A cluster CA to use: { cert, key } in PEM.")),
  ...ACCESS,
};

const CLUSTER_CONFIG_OUTPUTS: Properties<keyof ClusterConfigOutputs> = {
  ...CLUSTER_CONFIG_INPUTS,
  manager: string("The owner recorded in the documents: pulumi:<project>/<stack>/<resource name>."),
  configBase: string("The cluster's spec.configBase."),
  revisions: stringMap("Each stored document's revision."),
  ownedValues: any("The values this resource set, by document and field."),
  adopted: boolean("True when the cluster existed before this resource."),
  schemaVersion: integer("The version of this resource's state."),
  secretHashes: stringMap("A keyed hash of each secret, never the value."),
  secretHashKey: secret(string("The key of secretHashes.")),
  sshKeyFingerprint: string("The admin SSH key's fingerprint, once stored."),
  caCertificate: string("The certificate of the CA given as ca, once it is the cluster CA's primary."),
  keysFound: any("The keys found in the store at the last run."),
};

const MIGRATION_INPUTS: Properties<Exclude<keyof MigrationInputs, "plan">> = {
  clusterName: string("The cluster to move."),
  source: string("The store the cluster is in now."),
  destination: string("The store it moves to."),
  sourceSettings: secret(any("How the source store is reached: endpoint, region, project, accessKeyId, secretAccessKey, sessionToken.")),
  destinationSettings: secret(any("How the destination store is reached.")),
  deleteSource: boolean("Delete the source files once the destination verifies and the cluster has been updated against it (default off)."),
  concurrency: integer("Files in flight at once (default: the copy finds its own pace)."),
};

const MIGRATION_OUTPUTS: Properties<keyof MigrationOutputs> = {
  ...MIGRATION_INPUTS,
  plan: strings("What would move, as the last check saw it."),
  configBase: string("The cluster's configBase at the destination."),
  filesCopied: integer("Files copied by the last run."),
  bytesCopied: integer("Bytes copied by the last run."),
  verified: boolean("Every file at the destination verified by hash."),
  manifestHash: string("A hash of the moved files' names and hashes."),
  sourceDeleted: boolean("Whether the source files were deleted."),
  sourceKept: string("Why the source was kept though deleteSource is set."),
  extraAtDestination: strings("Files at the destination that the source does not have."),
  schemaVersion: integer("The version of this resource's state."),
};

const CLUSTER_UPDATE_INPUTS: Properties<Exclude<keyof ClusterUpdateInputs, "plan">> = {
  store: string("The state store's URL."),
  name: string("The cluster's name."),
  kops: string("The kops binary: a path, or a name looked up on PATH (default kops)."),
  target: string("direct (default): kops changes the cloud; terraform: kops writes kubernetes.tf into outDir."),
  outDir: string("Where target terraform writes."),
  triggers: any("Anything whose change should run the update, e.g. a ClusterConfig's revisions."),
  lifecycleOverrides: stringMap("kops's --lifecycle-overrides, task type to lifecycle."),
  allowKopsDowngrade: boolean("kops's --allow-kops-downgrade."),
  prune: boolean("kops's --prune."),
  environment: secret(stringMap("Variables for kops beside the provider's own environment.")),
  failAfter: string("How long kops may keep retrying a failing task (Go duration, default 3m)."),
  rollingUpdate: any("Opt-in: kops rolling-update cluster --yes after each update, with these options."),
  ...ACCESS,
};

const CLUSTER_UPDATE_OUTPUTS: Properties<keyof ClusterUpdateOutputs> = {
  ...CLUSTER_UPDATE_INPUTS,
  plan: strings("kops's task changes, as the last check saw them."),
  kopsVersion: string("The kops version that ran the update."),
  applied: strings("What the last run applied, as its dry run listed it."),
  pendingChanges: strings("Cloud changes a refresh found pending (drift)."),
  schemaVersion: integer("The version of this resource's state."),
};

const KUBECONFIG_INPUTS: Properties<keyof GetKubeconfigArgs | "configBase"> = {
  store: string("The state store's URL (or give configBase)."),
  name: string("The cluster's name (or give configBase)."),
  configBase: string("Instead of store and name: a ClusterConfig's configBase output. It is not known in a preview that creates or changes the cluster, so the kubeconfig is asked for once the cluster is stored."),
  admin: string("The admin certificate's lifetime, as kops's --admin= takes it (default 18h)."),
  internal: boolean("Use the API's internal name (api.internal.NAME)."),
  clientSideEncryption: ENCRYPTION,
  ...ACCESS,
};

const KUBECONFIG_OUTPUTS: Properties<keyof GetKubeconfigResult> = {
  kubeconfig: secret(string("The kubeconfig's YAML: one cluster, user and context, named as the cluster.")),
  expires: string("When the client certificate stops working (RFC 3339)."),
};

interface ResourceSpec {
  description: string;
  inputs: Record<string, Property>;
  outputs: Record<string, Property>;
  required: string[];
}

/** The resources, by the name after `kstate:index:`. */
export const RESOURCES = {
  StateStore: {
    description: "A bucket (or local folder) that holds kops cluster state: versioning, default encryption and public access blocked; refused on destroy while it holds state, unless forceDestroy.",
    inputs: STATE_STORE_INPUTS, outputs: STATE_STORE_OUTPUTS, required: ["url"],
  },
  ClusterConfig: {
    description: "A kops cluster's documents in a state store, with options, spec and instanceGroups merged into what is stored.",
    inputs: CLUSTER_CONFIG_INPUTS, outputs: CLUSTER_CONFIG_OUTPUTS, required: ["store", "name"],
  },
  StateStoreMigration: {
    description: "Moves a cluster's state to another store: copies, verifies by hash, points spec.configBase at the new place.",
    inputs: MIGRATION_INPUTS, outputs: MIGRATION_OUTPUTS, required: ["clusterName", "source", "destination"],
  },
  ClusterUpdate: {
    description: "Runs kops update cluster against the stored state, the preview showing kops's planned changes.",
    inputs: CLUSTER_UPDATE_INPUTS, outputs: CLUSTER_UPDATE_OUTPUTS, required: ["store", "name"],
  },
} as const satisfies Record<string, ResourceSpec>;

export type ResourceName = keyof typeof RESOURCES;

/** The function, by the name after `kstate:index:`. */
export const FUNCTIONS = {
  getKubeconfig: {
    description: "An admin kubeconfig for a cluster, as kops export kubeconfig --admin writes it, from the keys in the store.",
    inputs: KUBECONFIG_INPUTS, outputs: KUBECONFIG_OUTPUTS, required: [],
  },
} as const satisfies Record<string, ResourceSpec>;

/** The names of `properties` marked secret. */
export function secretNames(properties: Record<string, Property>): string[] {
  return Object.entries(properties).filter(([, p]) => p.secret === true).map(([k]) => k);
}

/** The package schema, as `pulumi package get-schema` prints it and language hosts read it. */
export function packageSchema(version: string): Record<string, unknown> {
  const props = (ps: Record<string, Property>) => Object.fromEntries(Object.entries(ps).map(([k, p]) => [k, p]));
  return {
    name: "kstate",
    displayName: "kstate",
    version,
    description: "Kubernetes cluster state stores, the kops way: a cluster's config, instance groups, secrets and keys as kops's files in S3, GCS or a local folder.",
    keywords: ["kops", "kubernetes", "state"],
    license: "Apache-2.0",
    meta: { moduleFormat: "(.*)" },
    resources: Object.fromEntries(Object.entries(RESOURCES).map(([name, r]: [string, ResourceSpec]) => [`kstate:index:${name}`, {
      description: r.description,
      inputProperties: props(r.inputs),
      requiredInputs: r.required,
      properties: props(r.outputs),
      required: r.required,
    }])),
    functions: Object.fromEntries(Object.entries(FUNCTIONS).map(([name, f]: [string, ResourceSpec]) => [`kstate:index:${name}`, {
      description: f.description,
      inputs: { properties: props(f.inputs), required: f.required },
      outputs: { properties: props(f.outputs), required: Object.keys(f.outputs) },
    }])),
  };
}
