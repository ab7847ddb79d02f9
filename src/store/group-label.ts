/**
 * An instance group as kops reads it: kops sets `metadata.labels["kops.k8s.io/cluster"]` to the
 * cluster it read the group from, whatever the file holds (kops itself stores groups without the
 * label), so what `kops get ig -o yaml` prints can go back through `kops replace -f`. The rest of
 * the text, comments included, is as stored.
 */
import { isMap, isScalar } from "yaml";
import { CLUSTER_LABEL } from "./layout";
import { parseYaml, setIn, stringifyYaml } from "./yaml";

type Doc = Record<string, any>;

export function labelledGroup(group: { text: string; doc: Doc }, cluster: string, source: string): { text: string; doc: Doc } {
  const labels = group.doc?.metadata?.labels as Doc | undefined;
  if (labels?.[CLUSTER_LABEL] === cluster) return group;
  const doc = parseYaml(group.text, source);
  setIn(doc, ["metadata", "labels", CLUSTER_LABEL], cluster);
  // Written as kops writes labels: a block map, the name unquoted.
  const labelsNode = doc.getIn(["metadata", "labels"], true);
  if (isMap(labelsNode)) labelsNode.flow = false;
  const value = doc.getIn(["metadata", "labels", CLUSTER_LABEL], true);
  if (isScalar(value)) value.type = "PLAIN";
  return {
    text: stringifyYaml(doc),
    doc: { ...group.doc, metadata: { ...group.doc?.metadata, labels: { ...labels, [CLUSTER_LABEL]: cluster } } },
  };
}
