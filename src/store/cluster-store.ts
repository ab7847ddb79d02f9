import { type Document, isMap } from "yaml";
import { NotFoundError, ValidationError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";
import { API_VERSION, CONFIG_FILE, INSTANCE_GROUP_DIR, LEGACY_API_VERSION } from "./layout";
import { documentText } from "./document-text";
import { getIn, parseYaml, parseYamlValues, setIn, stringifyYaml } from "./yaml";

/** A document as stored: the parsed YAML (comments kept), its text and its revision. */
export interface StoredDocument {
  path: VfsPath;
  doc: Document;
  text: string;
  revision: Revision;
}

export type Kind = "Cluster" | "InstanceGroup";

/** A document read for reading only: its text and its plain values (see `kopsDocumentValues`). */
export interface DocumentValues {
  text: string;
  values: Record<string, any>;
}

/**
 * Parses a kops document of the expected kind. The legacy API group `kops/v1alpha2` is read as
 * `kops.k8s.io/v1alpha2`, as kops does.
 */
export function parseKopsDocument(text: string, source: string, kind: Kind): Document {
  const doc = parseYaml(text, source);
  if (!isMap(doc.contents)) throw notAMapping(source, kind);
  const apiVersion = getIn(doc, ["apiVersion"]);
  const actual = getIn(doc, ["kind"]);
  if (actual !== kind) throw wrongKind(source, kind, actual);
  if (apiVersion === LEGACY_API_VERSION) setIn(doc, ["apiVersion"], API_VERSION);
  else if (apiVersion !== API_VERSION) {
    throw wrongApiVersion(source, apiVersion);
  }
  return doc;
}

function wrongApiVersion(source: string, actual: unknown): ValidationError {
  const found = actual === undefined || actual === null ? "no apiVersion field" : `apiVersion ${JSON.stringify(actual)}`;
  return new ValidationError(`${source}: ${found}; kops documents are ${API_VERSION}`, { problems: [{ path: "apiVersion", message: `must be ${API_VERSION}` }] });
}

function article(kind: Kind): string {
  return /^[AEIOU]/.test(kind) ? "an" : "a";
}

function notAMapping(source: string, kind: Kind): ValidationError {
  return new ValidationError(`${source}: expected ${article(kind)} ${kind} document, found no mapping`, { problems: [{ path: "", message: "not a mapping" }] });
}

function wrongKind(source: string, kind: Kind, actual: unknown): ValidationError {
  const found = actual === undefined || actual === null ? "no kind field" : `kind ${JSON.stringify(actual)}`;
  return new ValidationError(`${source}: expected ${article(kind)} ${kind} document, found ${found}`, { problems: [{ path: "kind", message: `must be ${kind}` }] });
}

/**
 * The values of a kops document of the expected kind, for reading only (listings): the same
 * checks as `parseKopsDocument`, through the faster reading parser.
 */
export function kopsDocumentValues(text: string, source: string, kind: Kind): Record<string, any> {
  const values = parseYamlValues(text, source) as Record<string, any> | null;
  if (typeof values !== "object" || values === null || Array.isArray(values)) throw notAMapping(source, kind);
  if (values.kind !== kind) throw wrongKind(source, kind, values.kind);
  if (values.apiVersion === LEGACY_API_VERSION) values.apiVersion = API_VERSION;
  else if (values.apiVersion !== API_VERSION) {
    throw wrongApiVersion(source, values.apiVersion);
  }
  return values;
}

/** A cluster as read for one plan: its config (undefined when absent) and every instance group. */
export interface ClusterRead {
  config: StoredDocument | undefined;
  groups: Map<string, StoredDocument>;
}

/**
 * The instance-group names a cluster had when it was last read (by its folder's URL), kept
 * outside the store: `readCluster` reads those groups while it lists instancegroup/, so a cluster
 * whose groups have not changed since is read in one round of requests instead of two. The
 * listing still decides which groups the cluster has; a name is only ever a read made early.
 */
export interface GroupNameHints {
  get(cluster: string): readonly string[] | undefined;
  set(cluster: string, names: readonly string[]): void;
}

/** Groups read ahead of the listing: at most one wave of reads. */
const READ_AHEAD = 16;

/**
 * The clusters of one state store. Reads cost one request per document and listing costs a
 * listing of the store's top level, never of every object in it.
 */
export class ClusterStore {
  constructor(readonly root: VfsPath, private readonly hints?: GroupNameHints) {}

  cluster(name: string): VfsPath {
    return this.root.join(name);
  }

  configPath(name: string): VfsPath {
    return this.cluster(name).join(CONFIG_FILE);
  }

  instanceGroupPath(cluster: string, group: string): VfsPath {
    return this.cluster(cluster).join(INSTANCE_GROUP_DIR, group);
  }

  /** Cluster names: folders at the top of the store holding a `config`. */
  async listClusters(): Promise<string[]> {
    const folders = await this.root.listFolders();
    const found = await mapLimit(folders, 16, async (name) => {
      try {
        await this.configPath(name).stat();
        return name;
      } catch (e) {
        if (NotFoundError.isInstance(e)) return undefined;
        throw e;
      }
    });
    return found.filter((n): n is string => n !== undefined).sort();
  }

  private async read(path: VfsPath, kind: Kind): Promise<StoredDocument | undefined> {
    try {
      const { data, revision } = await path.read();
      const text = documentText(data, path.url);
      return { path, doc: parseKopsDocument(text, path.url, kind), text, revision };
    } catch (e) {
      if (NotFoundError.isInstance(e)) return undefined;
      throw e;
    }
  }

  private async readValues(path: VfsPath, kind: Kind): Promise<DocumentValues | undefined> {
    try {
      const text = documentText((await path.read()).data, path.url);
      return { text, values: kopsDocumentValues(text, path.url, kind) };
    } catch (e) {
      if (NotFoundError.isInstance(e)) return undefined;
      throw e;
    }
  }

  /** The config's values for reading only (listings), or undefined when there is none. */
  async readConfigValues(cluster: string): Promise<Record<string, any> | undefined> {
    return (await this.readValues(this.configPath(cluster), "Cluster"))?.values;
  }

  /**
   * The config and every instance group for reading only (`get`): as `readCluster`, in the same
   * rounds of requests, through the faster reading parser.
   */
  async readClusterValues(cluster: string): Promise<{ config: DocumentValues | undefined; groups: Map<string, DocumentValues> }> {
    const [config, groups] = await Promise.all([
      this.readValues(this.configPath(cluster), "Cluster"),
      this.eachGroup(cluster, this.listInstanceGroups(cluster), (path) => this.readValues(path, "InstanceGroup")),
    ]);
    return { config, groups };
  }

  readConfig(cluster: string): Promise<StoredDocument | undefined> {
    return this.read(this.configPath(cluster), "Cluster");
  }

  /** The cluster's config; `NotFoundError` naming the store when there is no such cluster. */
  async requireConfig(cluster: string): Promise<StoredDocument> {
    return (await this.readConfig(cluster)) ?? this.noSuchCluster(cluster);
  }

  /** Throws the `NotFoundError` of a cluster that has no config, naming the store. */
  noSuchCluster(cluster: string): never {
    throw new NotFoundError(`cluster ${JSON.stringify(cluster)} not found in ${this.root.url}`, { url: this.configPath(cluster).url });
  }

  readInstanceGroup(cluster: string, group: string): Promise<StoredDocument | undefined> {
    return this.read(this.instanceGroupPath(cluster, group), "InstanceGroup");
  }

  async listInstanceGroups(cluster: string): Promise<string[]> {
    return (await this.cluster(cluster).join(INSTANCE_GROUP_DIR).list()).map((f) => f.path).sort();
  }

  /**
   * Every instance group of a cluster, read in parallel after the listing (`listing`: one already
   * under way).
   */
  readInstanceGroups(cluster: string, listing?: Promise<string[]>): Promise<Map<string, StoredDocument>> {
    return this.eachGroup(cluster, listing ?? this.listInstanceGroups(cluster), (path) => this.read(path, "InstanceGroup"));
  }

  /**
   * `read` of every group the listing names, 16 at once, by name; groups gone since the listing
   * left out. The groups the hints name are read while the listing is under way; a name the
   * listing does not give is dropped, and one the read ahead did not find (made since) is read
   * again after the listing.
   */
  private async eachGroup<T>(cluster: string, listing: Promise<string[]>, read: (path: VfsPath) => Promise<T | undefined>): Promise<Map<string, T>> {
    const folder = this.cluster(cluster).url;
    const hinted = this.hints?.get(folder) ?? [];
    const ahead = new Map(hinted.slice(0, READ_AHEAD).map((n) => [n, settled(read(this.instanceGroupPath(cluster, n)))] as const));
    const names = await listing;
    const docs = await mapLimit(names, 16, async (n) => {
      const early = await ahead.get(n);
      if (early && "error" in early) throw early.error;
      return early?.value ?? read(this.instanceGroupPath(cluster, n));
    });
    if (this.hints && !sameNames(hinted, names)) this.hints.set(folder, names);
    const out = new Map<string, T>();
    names.forEach((n, i) => {
      const d = docs[i];
      if (d !== undefined) out.set(n, d);
    });
    return out;
  }

  /**
   * The config and every instance group, in two rounds of requests: the config and the groups'
   * listing together, then the groups; in one when the hints name the groups the listing gives.
   */
  async readCluster(cluster: string, listing?: Promise<string[]>): Promise<ClusterRead> {
    const [config, groups] = await Promise.all([this.readConfig(cluster), this.readInstanceGroups(cluster, listing)]);
    return { config, groups };
  }

  /**
   * The revision of each of the cluster's documents now (`config`, `instancegroup/<name>`), by
   * file, without reading them: from two listings made at once (the cluster's folder and
   * instancegroup/), which carry each file's revision. Undefined when there is no config.
   */
  async documentRevisions(cluster: string): Promise<Record<string, string> | undefined> {
    const [top, groups] = await Promise.all([this.cluster(cluster).list(), this.cluster(cluster).join(INSTANCE_GROUP_DIR).list()]);
    const config = top.find((f) => f.path === CONFIG_FILE)?.revision;
    if (config === undefined) return undefined;
    const out: Record<string, string> = { config };
    for (const g of [...groups].sort((a, b) => (a.path < b.path ? -1 : 1))) out[`${INSTANCE_GROUP_DIR}/${g.path}`] = g.revision ?? "";
    return out;
  }
}

/** Writes a document: create-only, or conditional on the revision it was read at. */
export async function writeDocument(path: VfsPath, doc: Document, base: Revision | undefined): Promise<Revision> {
  const text = stringifyYaml(doc);
  const { revision } = base === undefined ? await path.create(text) : await path.write(text, { ifRevision: base });
  return revision;
}

/** A promise's outcome as a value: a read made ahead may fail unheeded when no one asks for it. */
function settled<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then((value) => ({ value }), (error: unknown) => ({ error }));
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}
