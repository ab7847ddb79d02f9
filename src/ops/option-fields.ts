/**
 * The `kops create cluster` flags that only set fields (cmd/kops/create_cluster.go's
 * RunCreateCluster, upup/pkg/fi/cloudup/new_cluster.go): one table, each flag to its check and to
 * the fields it names. A flag that is given names exactly those fields, on a new cluster and on a
 * stored one; a flag that is not given names nothing. `expand.ts` merges the result into what it
 * owns.
 *
 * | flag | names |
 * | --- | --- |
 * | kubernetesFeatureGates | featureGates.NAME ("true"/"false") of kubelet, kubeAPIServer, kubeControllerManager, kubeProxy, kubeScheduler |
 * | containerRuntime | nothing (containerd is kops's only runtime) |
 * | bastionImage | image of the bastions group |
 * | nodeVolumeType, controlPlaneVolumeType | rootVolumeType of the nodes-<zone> or control-plane groups |
 * | associatePublicIp | associatePublicIp of every group kops lays out (nodes, control plane, bastions) |
 * | nodeSecurityGroups, controlPlaneSecurityGroups | additionalSecurityGroups of the nodes-<zone> or control-plane groups |
 * | nodeTenancy, controlPlaneTenancy | tenancy of the same groups |
 * | instanceManager | nothing for cloudgroups (kops's default); karpenter is refused |
 * | disableSubnetTags | spec.DisableSubnetTags: true (false: absent, as kops writes it) |
 * | encryptEtcdStorage | encryptedVolume of every etcd member: true (false: absent, as kops writes it) |
 * | etcdStorageType | volumeType of every etcd member |
 * | authorization | spec.authorization: rbac or alwaysAllow, the other removed |
 * | cloudLabels | spec.cloudLabels.KEY for each label given |
 * | apiLoadBalancerClass | spec.api.loadBalancer.class, on AWS, where the API has a load balancer (kops ignores it otherwise) |
 * | apiSslCertificate | spec.api.loadBalancer.sslCertificate; an API without a load balancer gets one, as kops gives it |
 * | apiPublicName | spec.masterPublicName |
 * | gceServiceAccount | spec.cloudConfig.gceServiceAccount, on GCE (kops ignores it elsewhere) |
 *
 * Values are checked as kops checks them (`fieldOptionProblems`), and against the cluster's cloud
 * as kops's create cluster does (`fieldOptionCloudProblems`): a GCE or AWS setting on another
 * cloud is refused, AWS security groups must be `sg-…` ids and volume types EBS ones.
 */
import { mergeOverlay } from "./merge";
import type { ClusterOptions, OptionProblem } from "./cluster-options";

type Doc = Record<string, unknown>;

/** Where the flags reach: the cluster's cloud and the groups and etcd members kops's expansion names. */
export interface FieldPlaces {
  cloud: string | undefined;
  /** The `nodes-<zone>` groups. */
  nodeGroups: string[];
  /** The `control-plane-<zone>` (or older `master-<zone>`) groups. */
  controlPlaneGroups: string[];
  bastionGroups: string[];
  etcdClusters: string[];
  /** The members of every etcd cluster (kops gives each cluster the same members). */
  etcdMembers: string[];
  /**
   * The API has a load balancer, or gets one on create, without these flags (expand.ts's
   * `balanced`, or a stored `spec.api.loadBalancer`). Taken as true when not said.
   */
  apiLoadBalancer?: boolean;
}

export interface OptionFields {
  cluster: Doc;
  instanceGroups: Record<string, Doc>;
}

/** What one flag writes: fields of the Cluster spec, and of group specs by group name. */
interface Written {
  spec?: Doc;
  groups?: [string[], Doc];
}

interface Entry<K extends keyof ClusterOptions> {
  option: K;
  /** A problem with the value itself, whatever the cluster. */
  check: (v: unknown) => string | undefined;
  fields: (v: NonNullable<ClusterOptions[K]>, at: FieldPlaces, o: ClusterOptions) => Written[];
}

/** Keeps each entry's value typed by its option. */
function entry<K extends keyof ClusterOptions>(e: Entry<K>): Entry<keyof ClusterOptions> {
  return e as unknown as Entry<keyof ClusterOptions>;
}

// ---------------------------------------------------------------------------------------------
// Checks

const nonEmptyString = (v: unknown) => (typeof v === "string" && v !== "" ? undefined : "must be a non-empty string");
const boolean = (v: unknown) => (typeof v === "boolean" ? undefined : "must be true or false");
const oneOf = (values: readonly string[]) => (v: unknown) =>
  typeof v === "string" && values.includes(v) ? undefined : `must be ${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;

function securityGroups(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.some((g) => typeof g !== "string" || g.trim() === "")) return "must be a non-empty list of security group ids";
  if (new Set(v).size !== v.length) return "lists a security group twice";
  return undefined;
}

/** kops's validation of every group's tenancy (EC2's values). */
const TENANCIES = ["default", "dedicated", "host"] as const;

/** `Name` or `+Name` enables a gate, `-Name` disables it (kops's NewCluster). */
function featureGate(text: string): { name: string; enabled: boolean } {
  const plus = text.startsWith("+") ? text.slice(1) : text;
  return plus.startsWith("-") ? { name: plus.slice(1), enabled: false } : { name: plus, enabled: true };
}

function featureGates(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.some((g) => typeof g !== "string")) return "must be a non-empty list of feature gates (Name enables, -Name disables)";
  const bad = (v as string[]).find((g) => !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(featureGate(g).name));
  return bad === undefined ? undefined : `${JSON.stringify(bad)} is not a feature gate: give Name to enable it, -Name to disable it`;
}

/** Keys kops's validation keeps for itself (validateCloudLabels). */
const RESERVED_LABELS = ["Name", "KubernetesCluster"];
const RESERVED_LABEL_PREFIXES = ["kubernetes.io/cluster/", "k8s.io/role/", "kops.k8s.io/"];

/**
 * kops's `--cloud-labels`: `k=v` pairs split at commas, each a CSV record with `=` for comma (so a
 * key or value may be quoted to hold `=`: `k="a=b"`; `""` in quotes is one quote; leading spaces
 * of a field dropped; empty records skipped). A later key wins.
 */
export function parseCloudLabels(text: string): { labels: Record<string, string> } | { error: string } {
  const records: string[][] = [];
  const s = text.replace(/,/g, "\n");
  let i = 0;
  while (i < s.length) {
    const fields: string[] = [];
    for (;;) {
      while (s[i] === " " || s[i] === "\t") i++;
      let field = "";
      if (s[i] === '"') {
        i++;
        for (;;) {
          if (i >= s.length) return { error: `${JSON.stringify(text)}: a quote is not closed` };
          if (s[i] === '"') {
            if (s[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          field += s[i++];
        }
        if (i < s.length && s[i] !== "=" && s[i] !== "\n") return { error: `${JSON.stringify(text)}: text after a closing quote` };
      } else {
        while (i < s.length && s[i] !== "=" && s[i] !== "\n") {
          if (s[i] === '"') return { error: `${JSON.stringify(text)}: a quote inside an unquoted key or value (quote the whole of it)` };
          field += s[i++];
        }
      }
      fields.push(field);
      if (s[i] === "=") {
        i++;
        continue;
      }
      i++; // the end of the record
      break;
    }
    if (fields.length === 1 && fields[0] === "") continue; // an empty record
    records.push(fields);
  }
  const labels: Record<string, string> = {};
  for (const r of records) {
    if (r.length !== 2) return { error: `${JSON.stringify(r.join("="))} is not one key=value pair` };
    labels[r[0]!] = r[1]!;
  }
  return { labels };
}

function labelsOf(v: string | Record<string, string>): { labels: Record<string, string> } | { error: string } {
  return typeof v === "string" ? parseCloudLabels(v) : { labels: v };
}

function cloudLabels(v: unknown): string | undefined {
  const isMap = typeof v === "object" && v !== null && !Array.isArray(v);
  if (typeof v !== "string" && !(isMap && Object.values(v).every((x) => typeof x === "string"))) return "must be key=value pairs (k=v,k2=v2) or a map of strings";
  const parsed = labelsOf(v as string | Record<string, string>);
  if ("error" in parsed) return parsed.error;
  const keys = Object.keys(parsed.labels);
  if (keys.length === 0) return "names no label";
  if (keys.includes("")) return "a label needs a key";
  const reserved = keys.find((k) => RESERVED_LABELS.includes(k) || RESERVED_LABEL_PREFIXES.some((p) => k.startsWith(p)));
  if (reserved !== undefined) return `${JSON.stringify(reserved)} is reserved for kops's own labels (${[...RESERVED_LABELS, ...RESERVED_LABEL_PREFIXES.map((p) => `${p}*`)].join(", ")})`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The table

const COMPONENTS = ["kubelet", "kubeAPIServer", "kubeControllerManager", "kubeProxy", "kubeScheduler"] as const;

const onGroups = (groups: string[], fields: Doc): Written[] => (groups.length > 0 ? [{ groups: [groups, fields] }] : []);

function onEtcdMembers(at: FieldPlaces, fields: Doc): Written[] {
  if (at.etcdClusters.length === 0 || at.etcdMembers.length === 0) return [];
  return [{ spec: { etcdClusters: at.etcdClusters.map((name) => ({ name, etcdMembers: at.etcdMembers.map((m) => ({ name: m, ...fields })) })) } }];
}

const TABLE: readonly Entry<keyof ClusterOptions>[] = [
  entry({
    option: "kubernetesFeatureGates", check: featureGates,
    fields: (v) => {
      const gates: Doc = {};
      for (const g of v.map(featureGate)) gates[g.name] = String(g.enabled);
      return [{ spec: Object.fromEntries(COMPONENTS.map((c) => [c, { featureGates: gates }])) }];
    },
  }),
  entry({
    option: "containerRuntime",
    // kops 1.36 takes any value and ignores it; another runtime would be a wish kops cannot meet.
    check: (v) => (v === "containerd" ? undefined : "containerd is kops's only container runtime (kops ignores the flag; kstate refuses another value rather than ignore it)"),
    fields: () => [],
  }),
  entry({ option: "bastionImage", check: nonEmptyString, fields: (v, at) => onGroups(at.bastionGroups, { image: v }) }),
  entry({ option: "nodeVolumeType", check: nonEmptyString, fields: (v, at) => onGroups(at.nodeGroups, { rootVolumeType: v }) }),
  entry({ option: "controlPlaneVolumeType", check: nonEmptyString, fields: (v, at) => onGroups(at.controlPlaneGroups, { rootVolumeType: v }) }),
  entry({
    option: "associatePublicIp", check: boolean,
    fields: (v, at) => onGroups([...at.nodeGroups, ...at.controlPlaneGroups, ...at.bastionGroups], { associatePublicIp: v }),
  }),
  entry({ option: "nodeSecurityGroups", check: securityGroups, fields: (v, at) => onGroups(at.nodeGroups, { additionalSecurityGroups: v }) }),
  entry({ option: "controlPlaneSecurityGroups", check: securityGroups, fields: (v, at) => onGroups(at.controlPlaneGroups, { additionalSecurityGroups: v }) }),
  entry({ option: "nodeTenancy", check: oneOf(TENANCIES), fields: (v, at) => onGroups(at.nodeGroups, { tenancy: v }) }),
  entry({ option: "controlPlaneTenancy", check: oneOf(TENANCIES), fields: (v, at) => onGroups(at.controlPlaneGroups, { tenancy: v }) }),
  entry({
    option: "instanceManager",
    check: (v) => (v === "karpenter"
      ? "karpenter needs --discovery-store, which kstate does not take (kops then lays out one Karpenter-managed nodes group and sets spec.karpenter.enabled: do that with kstate edit)"
      : oneOf(["cloudgroups", "karpenter"])(v)),
    fields: () => [],
  }),
  // kops writes the field only for true; false is the field absent, which is what it means.
  entry({ option: "disableSubnetTags", check: boolean, fields: (v) => [{ spec: { DisableSubnetTags: v ? true : null } }] }),
  entry({ option: "encryptEtcdStorage", check: boolean, fields: (v, at) => onEtcdMembers(at, { encryptedVolume: v ? true : null }) }),
  entry({ option: "etcdStorageType", check: nonEmptyString, fields: (v, at) => onEtcdMembers(at, { volumeType: v }) }),
  entry({
    option: "authorization",
    check: (v) => (typeof v === "string" && ["rbac", "alwaysallow"].includes(v.toLowerCase()) ? undefined : "must be RBAC or AlwaysAllow"),
    fields: (v) => [{ spec: { authorization: v.toLowerCase() === "alwaysallow" ? { alwaysAllow: {}, rbac: null } : { rbac: {}, alwaysAllow: null } } }],
  }),
  entry({
    option: "cloudLabels", check: cloudLabels,
    fields: (v) => {
      const parsed = labelsOf(v);
      return "labels" in parsed ? [{ spec: { cloudLabels: parsed.labels } }] : [];
    },
  }),
  entry({
    option: "apiLoadBalancerClass", check: oneOf(["classic", "network"]),
    fields: (v, at, o) => (at.cloud === "aws" && (at.apiLoadBalancer !== false || o.apiSslCertificate !== undefined)
      ? [{ spec: { api: { loadBalancer: { class: v === "classic" ? "Classic" : "Network" } } } }]
      : []),
  }),
  entry({
    option: "apiSslCertificate", check: nonEmptyString,
    // kops gives the API a load balancer for the certificate: public, and on AWS a network one.
    fields: (v, at) => [{
      spec: {
        api: at.apiLoadBalancer !== false
          ? { loadBalancer: { sslCertificate: v } }
          : { dns: null, loadBalancer: { type: "Public", ...(at.cloud === "aws" ? { class: "Network" } : {}), sslCertificate: v } },
      },
    }],
  }),
  entry({ option: "apiPublicName", check: nonEmptyString, fields: (v) => [{ spec: { masterPublicName: v } }] }),
  // Elsewhere kops ignores it (and refuses the field in a document).
  entry({ option: "gceServiceAccount", check: nonEmptyString, fields: (v, at) => (at.cloud === "gce" ? [{ spec: { cloudConfig: { gceServiceAccount: v } } }] : []) }),
];

/** The options this table answers for. */
export const FIELD_OPTIONS: readonly (keyof ClusterOptions)[] = TABLE.map((e) => e.option);

/** Problems with the values of the table's options (checkOptions); with `--cloud`, also `fieldOptionCloudProblems`. */
export function fieldOptionProblems(o: ClusterOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  for (const e of TABLE) {
    const v = o[e.option];
    if (v === undefined) continue;
    const message = e.check(v);
    if (message !== undefined) problems.push({ option: e.option, message });
  }
  if (o.apiSslCertificate !== undefined && o.apiLoadBalancerClass === "classic") {
    problems.push({ option: "apiSslCertificate", message: "needs a network load balancer (kops refuses it with apiLoadBalancerClass classic)" });
  }
  if (o.cloud !== undefined) problems.push(...fieldOptionCloudProblems(o, o.cloud));
  return problems;
}

/** Volume types kops's validation takes on AWS. */
const AWS_VOLUME_TYPES = ["standard", "gp3", "gp2", "io1", "io2"];

/**
 * Problems of the table's options on the cluster's cloud, as kops's create cluster finds them (its
 * validation with the cloud at hand): settings of another cloud, and AWS's formats.
 */
export function fieldOptionCloudProblems(o: ClusterOptions, cloud: string): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const add = (option: keyof ClusterOptions, message: string) => problems.push({ option, message });
  const only = { gceServiceAccount: "gce", apiLoadBalancerClass: "aws", apiSslCertificate: "aws" } as const;
  for (const [option, on] of Object.entries(only) as [keyof typeof only, string][]) {
    if (o[option] !== undefined && cloud !== on) add(option, `is ${on === "aws" ? "an AWS" : "a GCE"} setting (the cloud is ${cloud})`);
  }
  if (cloud === "aws") {
    for (const option of ["nodeSecurityGroups", "controlPlaneSecurityGroups"] as const) {
      const bad = o[option]?.find((g) => typeof g === "string" && !g.startsWith("sg-"));
      if (bad !== undefined) add(option, `${JSON.stringify(bad)} is not an AWS security group id (sg-…)`);
    }
    for (const option of ["nodeVolumeType", "controlPlaneVolumeType"] as const) {
      const v = o[option];
      if (typeof v === "string" && !AWS_VOLUME_TYPES.includes(v)) add(option, `must be one of ${AWS_VOLUME_TYPES.join(", ")} on AWS (got ${JSON.stringify(v)})`);
    }
  }
  return problems;
}

/**
 * The fields the given options name, as owned overlays (`{ spec: … }` per document): the Cluster's
 * and each group's. Invalid values (see `fieldOptionProblems`) name nothing.
 */
export function optionFields(o: ClusterOptions, at: FieldPlaces): OptionFields {
  let spec: Doc = {};
  const groups: Record<string, Doc> = {};
  for (const e of TABLE) {
    const v = o[e.option];
    if (v === undefined || e.check(v) !== undefined) continue;
    for (const w of e.fields(v as never, at, o)) {
      if (w.spec) spec = mergeOverlay(spec, w.spec) as Doc;
      if (w.groups) {
        const [names, fields] = w.groups;
        for (const g of names) groups[g] = mergeOverlay(groups[g] ?? {}, fields) as Doc;
      }
    }
  }
  return {
    cluster: Object.keys(spec).length > 0 ? { spec } : {},
    instanceGroups: Object.fromEntries(Object.entries(groups).map(([g, fields]) => [g, { spec: fields }])),
  };
}

/**
 * The fields the table's options write, for expand.ts's `isOptionField`: once written, a field
 * keeps its value when the option is no longer given, as a kops flag not given changes nothing.
 */
export function isFieldOptionPath(file: string, path: string): boolean {
  return file === "config"
    ? /^spec\.(etcdClusters\[|((kubelet|kubeAPIServer|kubeControllerManager|kubeProxy|kubeScheduler)\.featureGates|authorization|DisableSubnetTags|cloudLabels|masterPublicName|cloudConfig\.gceServiceAccount|api)(\.|\[|$))/.test(path)
    : /^spec\.(image|rootVolumeType|associatePublicIp|additionalSecurityGroups|tenancy)(\.|\[|$)/.test(path);
}
