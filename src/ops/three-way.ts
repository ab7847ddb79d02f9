/**
 * Three-way merge, line by line, as git's diff3 merge does it: what each side changed since the
 * base is found with a longest common subsequence (Myers's diff), and the changes are combined.
 * Where both sides changed the same lines differently, the result holds all three versions
 * between conflict markers. Lines keep their line endings, so comments and formatting survive
 * byte for byte. Pure functions, no I/O.
 */

/** The text's lines, each with its "\n" (the last one without, if the text does not end in one). */
export function splitLines(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

/**
 * Beyond this many inserted and deleted lines between two texts, the part between their common
 * start and end counts as replaced outright: the merge stays correct (it may only see more
 * conflicts) and the search stays within a few megabytes.
 */
const MAX_EDITS = 2000;

/**
 * A longest common subsequence of `a` and `b`, as `matched[i]` = the index in `b` of the line
 * matched to `a[i]`, or -1. Matches only equal lines, in order.
 */
export function matchLines(a: readonly string[], b: readonly string[]): Int32Array {
  const matched = new Int32Array(a.length).fill(-1);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) matched[start] = start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) matched[--endA] = --endB;
  for (const [i, j] of myers(a.slice(start, endA), b.slice(start, endB))) matched[start + i] = start + j;
  return matched;
}

/** Myers's O(ND) shortest edit script, as the matched pairs along it (empty past MAX_EDITS). */
function myers(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  // v[offset + k]: the furthest x reached on diagonal k (y = x - k); trace[d]: v for k in -d..d before step d.
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return [];
}

function backtrack(trace: Int32Array[], n: number, m: number): [number, number][] {
  const pairs: [number, number][] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!;
    const at = (k: number) => v[k + d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) pairs.push([--x, --y]);
    x = prevX;
    y = prevY;
  }
  return pairs.reverse();
}

/** A run of the merge: lines all three agree on, lines one side changed, or a conflict. */
export type MergeChunk =
  | { kind: "unchanged"; lines: string[] }
  | { kind: "changed"; by: "local" | "store" | "both"; lines: string[] }
  | { kind: "conflict"; local: string[]; base: string[]; store: string[] };

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

/**
 * diff3's chunks (Khanna, Kunal and Pierce, "A formal investigation of diff3"): stable runs,
 * where a base line is matched in both sides and the three advance together, alternate with
 * unstable ones, the lines between two stable runs. An unstable run one side left as the base
 * had it takes the other side's lines; one both sides changed alike takes those; else it is a
 * conflict. So changes separated by at least one line both sides kept merge cleanly, and
 * changes that touch or overlap conflict.
 */
export function diff3(base: readonly string[], local: readonly string[], store: readonly string[]): MergeChunk[] {
  const toLocal = matchLines(base, local);
  const toStore = matchLines(base, store);
  const chunks: MergeChunk[] = [];
  let o = 0;
  let l = 0;
  let s = 0;
  const unstable = (oEnd: number, lEnd: number, sEnd: number) => {
    const b = base.slice(o, oEnd);
    const x = local.slice(l, lEnd);
    const y = store.slice(s, sEnd);
    if (same(x, b)) chunks.push({ kind: "changed", by: "store", lines: y });
    else if (same(y, b)) chunks.push({ kind: "changed", by: "local", lines: x });
    else if (same(x, y)) chunks.push({ kind: "changed", by: "both", lines: x });
    else chunks.push({ kind: "conflict", local: x, base: b, store: y });
  };
  for (;;) {
    let run = 0;
    while (o + run < base.length && toLocal[o + run] === l + run && toStore[o + run] === s + run) run++;
    if (run > 0) {
      chunks.push({ kind: "unchanged", lines: base.slice(o, o + run) });
      o += run;
      l += run;
      s += run;
      continue;
    }
    let next = o;
    while (next < base.length && (toLocal[next]! < 0 || toStore[next]! < 0)) next++;
    if (next === base.length) {
      if (o < base.length || l < local.length || s < store.length) unstable(base.length, local.length, store.length);
      return chunks;
    }
    unstable(next, toLocal[next]!, toStore[next]!);
    o = next;
    l = toLocal[next]!;
    s = toStore[next]!;
  }
}

export interface MergeLabels {
  local: string;
  base: string;
  store: string;
}

export const DEFAULT_LABELS: MergeLabels = { local: "local", base: "exported", store: "store" };

export interface TextMerge {
  text: string;
  /** Conflicting regions, each written between markers in `text`. */
  conflicts: number;
}

/**
 * `local` and `store`, both changed from `base`, merged. A conflict is written as git writes it
 * with merge.conflictStyle=diff3: `<<<<<<< local`, the local lines, `||||||| exported`, the base's,
 * `=======`, the store's, `>>>>>>> store`, each marker on a line of its own.
 */
export function mergeText(base: string, local: string, store: string, labels: MergeLabels = DEFAULT_LABELS): TextMerge {
  const out: string[] = [];
  let conflicts = 0;
  const section = (lines: string[]) => {
    out.push(...lines);
    const last = out[out.length - 1];
    if (last !== undefined && !last.endsWith("\n")) out[out.length - 1] = `${last}\n`;
  };
  for (const chunk of diff3(splitLines(base), splitLines(local), splitLines(store))) {
    if (chunk.kind !== "conflict") {
      out.push(...chunk.lines);
      continue;
    }
    conflicts++;
    if (out.length > 0 && !out[out.length - 1]!.endsWith("\n")) out[out.length - 1] += "\n";
    out.push(`<<<<<<< ${labels.local}\n`);
    section(chunk.local);
    out.push(`||||||| ${labels.base}\n`);
    section(chunk.base);
    out.push("=======\n");
    section(chunk.store);
    out.push(`>>>>>>> ${labels.store}\n`);
  }
  return { text: out.join(""), conflicts };
}

/** Whether `text` holds a conflict marker line as `mergeText` writes them. */
export function hasConflictMarkers(text: string, labels: MergeLabels = DEFAULT_LABELS): boolean {
  const lines = new Set(splitLines(text).map((l) => l.replace(/\r?\n$/, "")));
  return lines.has(`<<<<<<< ${labels.local}`) && lines.has(`>>>>>>> ${labels.store}`);
}

/** A file's three versions merged: the bytes to keep (undefined: no file) and whether they conflict. */
export interface FileMerge {
  result: Buffer | undefined;
  /** Both sides changed the file and the changes overlap, or cannot be merged line by line. */
  conflict?: "lines" | "binary";
}

function equal(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

/** UTF-8 without NUL bytes: what can be merged line by line. */
function isText(data: Buffer): boolean {
  if (data.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

/**
 * One file merged from its base and two changed versions, any of them possibly absent (created or
 * deleted). A side that left the file as the base had it takes the other's version, deletion
 * included. When both changed it, text is merged line by line, absent counting as empty, so a
 * change on one side against a deletion on the other is a conflict over the whole file. A file
 * that is not text cannot be merged: the local version is kept and the conflict reported.
 */
export function mergeFile(base: Buffer | undefined, local: Buffer | undefined, store: Buffer | undefined, labels: MergeLabels = DEFAULT_LABELS): FileMerge {
  if (equal(local, base)) return { result: store };
  if (equal(store, base) || equal(local, store)) return { result: local };
  if (![base, local, store].every((v) => v === undefined || isText(v))) return { result: local, conflict: "binary" };
  const text = (v: Buffer | undefined) => (v === undefined ? "" : v.toString("utf8"));
  const merged = mergeText(text(base), text(local), text(store), labels);
  if (merged.conflicts > 0) return { result: Buffer.from(merged.text), conflict: "lines" };
  // Both deleted what was left of it: no file, rather than an empty one.
  if (merged.text === "" && (local === undefined || store === undefined)) return { result: undefined };
  return { result: Buffer.from(merged.text) };
}
