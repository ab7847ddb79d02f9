/**
 * Paths to fields in a kops document: `spec.kubernetesVersion`,
 * `spec.subnets[name=us-east-1a].zone`, `metadata.labels["kops.k8s.io/cluster"]`.
 * A `{ name }` segment picks the item of a list of objects whose `name` field has that value.
 */
import { ValidationError } from "../vfs/errors";

export type Segment = string | { name: string };
export type FieldPath = readonly Segment[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(path: FieldPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg !== "string") out += `[name=${seg.name}]`;
    else if (PLAIN_KEY.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Parses what `formatPath` writes. Throws on anything else. */
export function parsePath(text: string): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ValidationError(`invalid field path ${JSON.stringify(text)}: ${why} at character ${i + 1}`, { problems: [{ path: text, message: why }] });
  };
  while (i < text.length) {
    if (text[i] === ".") {
      if (segments.length === 0) fail("leading `.`");
      i++;
    }
    if (text[i] === "[") {
      if (text.startsWith("[name=", i)) {
        const end = text.indexOf("]", i);
        if (end < 0) fail("unclosed `[`");
        segments.push({ name: text.slice(i + 6, end) });
        i = end + 1;
      } else if (text[i + 1] === '"') {
        let j = i + 2;
        while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
        if (text[j + 1] !== "]") fail("unclosed `[\"…\"]`");
        segments.push(JSON.parse(text.slice(i + 1, j + 1)) as string);
        i = j + 2;
      } else {
        fail("expected [name=…] or [\"key\"]");
      }
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i));
    if (!m) fail("expected a key");
    segments.push(m![0]);
    i += m![0].length;
  }
  if (segments.length === 0) fail("empty path");
  return segments;
}

export function samePath(a: FieldPath, b: FieldPath): boolean {
  return formatPath(a) === formatPath(b);
}

/** True when `prefix` is `path` or one of its ancestors. */
export function isPrefix(prefix: FieldPath, path: FieldPath): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((seg, i) => formatPath([seg]) === formatPath([path[i]!]));
}
