import { parseArgs } from "node:util";
import { mapLimit } from "../../store/cluster-store";
import { labelledGroup } from "../../store/group-label";
import { parseYamlValues } from "../../store/yaml";
import { NotFoundError } from "../../vfs/errors";
import { EXIT, type Io, UsageError } from "../io";
import { clusterName, clusterNames } from "../cluster-name";
import { allTables, clusterTable, instanceGroupTable } from "../kops-tables";
import { openClusterStore, readsOnly, requireStoreFolder } from "../open-store";

export const GET_HELP = `Usage:
  kstate get clusters [NAME...] [-o table|yaml|json]
  kstate get cluster [NAME] [-o table|yaml|json]
  kstate get ig --name CLUSTER [GROUP...] [-o table|yaml|json]
  kstate get all [NAME] [-o table|yaml|json]
(kstate get secrets has its own help: kstate get secrets --help)

Prints what the state store holds, as \`kops get\` does: tables with kops's columns (get all:
the cluster's table, then its instance groups'), or with -o yaml the stored documents as they
are, comments included (get all: the Cluster and its InstanceGroups as one multi-document
stream). A store with no cluster is an error (exit 1), as for kops, and so is a local folder that
is not there.

Options:
  --state URL     the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)
  -o, --output    table (default), yaml or json
  --name CLUSTER  the cluster (instead of the argument); default KOPS_CLUSTER_NAME, as for kops

Exit codes: 0 success, 1 failure (e.g. no such cluster), 2 usage error.
`;

type Doc = Record<string, any>;

/**
 * Once the first requests are under way (a round trip is tens of milliseconds of waiting), makes
 * what printing their answer needs: the output stream, and the reading parser, loaded and run
 * once on a document shaped as kops's are (maps, lists of maps, quoted and plain scalars), so
 * the code reading the answer has run before. The answer then waits for neither.
 */
function readyWhileWaiting(io: Io, output: string): void {
  setImmediate(() => {
    void io.stdout;
    if (output !== "json") parseYamlValues(SHAPED_AS_KOPS, "(ready)");
  });
}

const SHAPED_AS_KOPS = `apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata:
  creationTimestamp: "2026-01-01T00:00:00Z"
  name: ready.example.com
spec:
  etcdClusters:
  - etcdMembers:
    - instanceGroup: control-plane-a
      name: a
    name: main
  kubernetesVersion: 1.30.2
  networking:
    cilium: {}
  subnets:
  - cidr: 172.20.0.0/16
    type: Public
    zone: [a]
  maxSize: 1
  ready: true
`;

export async function get(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { state: { type: "string" }, output: { type: "string", short: "o" }, name: { type: "string" } },
  });
  const output = values.output ?? "table";
  if (!["table", "yaml", "json"].includes(output)) throw new UsageError(`-o must be table, yaml or json (got ${output})`);
  const [what, ...names] = positionals;
  readsOnly(io.env);
  const store = openClusterStore(values.state, io.env, io);
  readyWhileWaiting(io, output);
  // -o json: one object where kops prints one (one cluster asked for by name, or one instance
  // group), else a list: what `kops replace -f` takes back is what kops printed.
  const print = (docs: { text: string; doc: Doc }[], tables: () => string, single = false) => {
    // Separated as kops separates them: a blank line, `---`, a blank line.
    if (output === "yaml") io.stdout.write(docs.map((d) => (d.text.endsWith("\n") ? d.text : `${d.text}\n`)).join("\n---\n\n"));
    else if (output === "json") io.stdout.write(`${JSON.stringify(single && docs.length === 1 ? docs[0]!.doc : docs.map((d) => d.doc), null, 2)}\n`);
    else io.stdout.write(tables());
  };
  // The config and the groups' listing at once, then the groups: two rounds of requests. The
  // stored text (-o yaml) and a table need only plain values, which the reading parser gives
  // several times faster; JSON is the documents' own values, as edits and writes read them.
  // A group is printed (-o yaml|json) as kops reads it: labelled with the cluster it belongs to.
  const asRead = (name: string) => (g: string, d: { text: string; doc: Doc }) => (output === "table" ? d : labelledGroup(d, name, store.instanceGroupPath(name, g).url));
  const clusterWithGroups = async (name: string) => {
    const label = asRead(name);
    if (output !== "json") {
      const { config = store.noSuchCluster(name), groups } = await store.readClusterValues(name);
      return { config: { text: config.text, doc: config.values }, groups: new Map([...groups].map(([g, d]) => [g, label(g, { text: d.text, doc: d.values })])) };
    }
    const { config = store.noSuchCluster(name), groups } = await store.readCluster(name);
    return { config: { text: config.text, doc: config.doc.toJS() as Doc }, groups: new Map([...groups].map(([g, d]) => [g, label(g, { text: d.text, doc: d.doc.toJS() as Doc })])) };
  };
  switch (what) {
    case "clusters":
    case "cluster": {
      // As kops: the arguments, else --name, else KOPS_CLUSTER_NAME; with none, every cluster.
      const wanted = clusterNames(names, values.name, io.env, "--name", `get ${what}`);
      if (what === "cluster" && wanted.length === 0) throw new UsageError("get cluster needs a cluster name: the argument, --name NAME or KOPS_CLUSTER_NAME (or use get clusters)");
      // Named clusters must exist; listing reads each top-level folder's config once, skipping
      // folders that hold none (one request a cluster, never a walk of every object). A table
      // needs only values, which the reading parser gives several times faster.
      const read = output === "table"
        ? async (n: string) => {
          const doc = await store.readConfigValues(n);
          return doc && { text: "", doc };
        }
        : async (n: string) => {
          const c = await store.readConfig(n);
          return c && { text: c.text, doc: c.doc.toJS() as Doc };
        };
      const named = async (n: string) => {
        const d = await read(n);
        if (!d) await store.requireConfig(n); // no such cluster: the error names it and the store
        return d!;
      };
      const docs = wanted.length > 0
        ? await mapLimit(wanted, 64, named)
        : (await mapLimit(await store.root.listFolders(), 64, read)).filter((d): d is { text: string; doc: Doc } => d !== undefined);
      if (docs.length === 0) {
        // kops: "error reading state store: open DIR: no such file or directory", else "no clusters found".
        await requireStoreFolder(store.root);
        throw new NotFoundError(`no clusters found in ${store.root.url}`, { url: store.root.url });
      }
      print(docs, () => clusterTable(docs.map((d) => d.doc)), wanted.length === 1);
      return EXIT.ok;
    }
    case "ig":
    case "igs":
    case "instancegroups": {
      const name = clusterName("get ig", undefined, values.name, io.env);
      const { config, groups } = await clusterWithGroups(name);
      if (groups.size === 0) throw new NotFoundError(`no InstanceGroup objects found in cluster ${name}`, { url: store.cluster(name).join("instancegroup").url }); // as kops says it
      const wanted = names.length > 0 ? names : [...groups.keys()];
      const docs = wanted.map((g) => {
        const d = groups.get(g);
        if (!d) throw new NotFoundError(`instance group ${JSON.stringify(g)} not found in cluster ${name}`, { url: store.instanceGroupPath(name, g).url });
        return d;
      });
      print(docs, () => instanceGroupTable(config.doc, docs.map((d) => d.doc)), true);
      return EXIT.ok;
    }
    case "all": {
      const name = clusterName("get all", names, values.name, io.env);
      const read = await clusterWithGroups(name);
      const config = read.config;
      const groups = [...read.groups.values()];
      if (groups.length === 0) io.stderr.write("No instance groups found\n"); // as kops says it
      print([config, ...groups], () => allTables(config.doc, groups.map((g) => g.doc)));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown resource ${JSON.stringify(what ?? "")}: use clusters, cluster NAME, ig --name CLUSTER, or all NAME`);
  }
}
