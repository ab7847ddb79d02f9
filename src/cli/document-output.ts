/** Documents printed as kops's --dry-run -o yaml|json prints them. */
import type { Document } from "yaml";
import { stringifyYaml, toPlain } from "../store/yaml";

/**
 * Documents as `kops create cluster --dry-run` prints them: YAML separated by a blank line, `---`
 * and a blank line; JSON one compact object per document, each ending in a newline, joined by
 * commas (kops's own stream, which is JSON once wrapped in [ ]).
 */
export function formatDocuments(docs: readonly Document[], output: "yaml" | "json"): string {
  if (output === "yaml") return docs.map((d) => stringifyYaml(d)).join("\n---\n\n");
  return docs.map((d) => {
    const { kind, apiVersion, ...rest } = toPlain(d) as Record<string, unknown>;
    return `${JSON.stringify({ kind, apiVersion, ...rest })}\n`;
  }).join(",");
}
