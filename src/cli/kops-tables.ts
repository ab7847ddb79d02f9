/**
 * The tables `kops get` prints for clusters and instance groups (cmd/kops/get_cluster.go and
 * get_instancegroups.go): the same columns, headings and cells, from the stored v1alpha2 documents.
 */
import { cloudOf } from "../ops/validate";
import { table } from "./io";

type Doc = Record<string, any>;

/** The zones of a cluster's subnets, sorted and without repeats. */
function clusterZones(cluster: Doc): string[] {
  return [...new Set(((cluster.spec?.subnets ?? []) as Doc[]).map((s) => s?.zone).filter((z): z is string => typeof z === "string" && z !== ""))].sort();
}

/**
 * A group's zones as kops finds them: its own `zones` and those of the cluster subnets it names,
 * sorted. A subnet the cluster does not have leaves the cell empty, as kops leaves it.
 */
function groupZones(cluster: Doc, group: Doc): string {
  const zones = new Set<string>((group.spec?.zones ?? []) as string[]);
  const subnets = (cluster.spec?.subnets ?? []) as Doc[];
  for (const name of (group.spec?.subnets ?? []) as string[]) {
    const subnet = subnets.find((s) => s?.name === name);
    if (!subnet) return "";
    if (subnet.zone) zones.add(subnet.zone as string);
  }
  return [...zones].sort().join(",");
}

/** The role as kops prints it: its internal name, so v1alpha2's `Master` is `ControlPlane`. */
function role(group: Doc): string {
  const r = group.spec?.role;
  return r === "Master" ? "ControlPlane" : typeof r === "string" ? r : "";
}

function size(n: unknown): string {
  return typeof n === "number" ? String(n) : "-";
}

export function clusterTable(clusters: readonly Doc[]): string {
  return table(["NAME", "CLOUD", "ZONES"], clusters.map((c) => [c.metadata?.name ?? "", cloudOf(c.spec) ?? "", clusterZones(c).join(",")]));
}

export function instanceGroupTable(cluster: Doc, groups: readonly Doc[]): string {
  return table(["NAME", "ROLE", "MACHINETYPE", "MIN", "MAX", "ZONES"], groups.map((g) => [g.metadata?.name ?? "", role(g), g.spec?.machineType ?? "", size(g.spec?.minSize), size(g.spec?.maxSize), groupZones(cluster, g)]));
}

/** `kops get all NAME`: the cluster's table and its groups' table, each under its title. */
export function allTables(cluster: Doc, groups: readonly Doc[]): string {
  return `Cluster\n${clusterTable([cluster])}\nInstance Groups\n${instanceGroupTable(cluster, groups)}`;
}
