/**
 * A new instance group as `kops create instancegroup` fills it in (populate_instancegroup_spec.go):
 * its role, the cluster's subnets unless named, kops's machine type and image for the cloud, one
 * instance for a control plane or bastion and two for nodes, and the group's node label.
 */
import type { Document } from "yaml";
import { API_VERSION, CLUSTER_LABEL } from "../store/layout";
import { newDocument } from "../store/yaml";
import { fallbackImage, layoutOf } from "./cloud-layout";
import { cloudOf } from "./validate";

type Doc = Record<string, unknown>;

/** Roles as kops parses them (any case; `Master` and `ControlPlane` are one), as v1alpha2 writes them. */
const ROLES: Record<string, string> = { node: "Node", master: "Master", controlplane: "Master", bastion: "Bastion", apiserver: "APIServer" };

export interface NewGroup {
  role?: string;
  subnets?: string[];
  zones?: string[];
  machineType?: string;
  image?: string;
  minSize?: number;
  maxSize?: number;
}

/** The group's document, or the problem with the request (naming the flag's field). */
export function newInstanceGroup(cluster: Doc, name: string, want: NewGroup, created: string): { doc: Document } | { problem: { path: string; message: string } } {
  const role = ROLES[(want.role ?? "Node").toLowerCase()];
  if (!role) return { problem: { path: "spec.role", message: `unknown role ${JSON.stringify(want.role)}: one of Node, ControlPlane, Bastion, APIServer` } };
  const spec = (cluster.spec ?? {}) as Doc;
  const layout = layoutOf(cloudOf(spec));
  const clusterSubnets = (Array.isArray(spec.subnets) ? spec.subnets : []) as Doc[];
  let subnets = want.subnets ?? [];
  if (subnets.length === 0 && role === "Master") return { problem: { path: "spec.subnets", message: "a control-plane group names its subnets (--subnet)" } };
  if (subnets.length === 0) {
    // kops's order of preference: subnets that are neither dual-stack nor utility, else any but utility.
    const named = (keep: (type: unknown) => boolean) => clusterSubnets.filter((s) => keep(s.type)).map((s) => String(s.name));
    subnets = named((t) => t !== "DualStack" && t !== "Utility");
    if (subnets.length === 0) subnets = named((t) => t !== "Utility");
  }
  if (subnets.length === 0) return { problem: { path: "spec.subnets", message: `no subnet to put group ${name} in: the cluster has none that is not a utility subnet` } };
  const gce = cloudOf(spec) === "gce";
  if (gce && !want.zones?.length) return { problem: { path: "spec.zones", message: "a group of a GCE cluster names its zones (--zone), as kops requires" } };
  const single = role === "Master" || role === "Bastion";
  const machineType = want.machineType ?? (role === "Master" ? layout.machines?.controlPlane : role === "Bastion" ? layout.machines?.bastion : layout.machines?.node);
  const image = want.image ?? fallbackImage(layout, typeof spec.kubernetesVersion === "string" ? spec.kubernetesVersion : undefined);
  const doc = newDocument({
    apiVersion: API_VERSION,
    kind: "InstanceGroup",
    metadata: { creationTimestamp: created, labels: { [CLUSTER_LABEL]: cluster.metadata && (cluster.metadata as Doc).name }, name },
    spec: {
      ...(image ? { image } : {}),
      ...(machineType ? { machineType } : {}),
      maxSize: want.maxSize ?? Math.max(want.minSize ?? 0, single ? 1 : 2),
      minSize: want.minSize ?? Math.min(want.maxSize ?? Infinity, single ? 1 : 2),
      // On GCE kops labels nodes for the metadata proxy.
      nodeLabels: { ...(gce ? { "cloud.google.com/metadata-proxy-ready": "true" } : {}), "kops.k8s.io/instancegroup": name },
      role,
      subnets,
      ...(want.zones?.length ? { zones: want.zones } : {}),
    },
  });
  return { doc };
}
