/** kops documents as tests compare them. */
import { parseYamlStream } from "../../src/store/yaml";

/** A kops document as plain data. */
export type Doc = Record<string, any>;

/** `get all -o yaml` output by the file each document lives in: `config`, `instancegroup/<name>`. */
export function byFile(stream: string): Record<string, Doc> {
  return Object.fromEntries(parseYamlStream(stream, "get all").map((d) => d.toJS() as Doc).map((d) => [d.kind === "Cluster" ? "config" : `instancegroup/${d.metadata.name}`, d]));
}
