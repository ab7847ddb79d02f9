/**
 * The differential oracle: kstate's verdict on a document set against the real kops's.
 *
 * kstate's verdict is `kstate apply -f FILE --yes` into an empty file:// store (exit 0 accepted,
 * exit 1 refused); a refusal leaves that store empty and names the file or the field, and what
 * kstate accepted must read back through `kops get` as the set says. kops's is `kops create -f FILE`
 * into another empty store, and kops accepts only if it created the set, `kops get` reads back what
 * the set says (kops-read-back.ts: kops dropping an unknown field or rewriting a value means the
 * document did not mean to kops what it says), and kops's whole-cluster check takes it.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { kstate } from "./cli";
import type { Doc, DocumentSet } from "./kops-documents";
import { compareReadBack } from "./kops-read-back";

export interface Verdict {
  accepted: boolean;
  message: string;
}

export interface KstateVerdict extends Verdict {
  code: number;
  /** Files found in kstate's store after a refusal (none expected). */
  written: string[];
  /** After an acceptance: how `kops get` on kstate's store differs from the set (none expected). */
  readBack: string[];
}

export type ProblemKind = "verdict" | "kstate-store-read-by-kops" | "refusal-wrote" | "refusal-message" | "kstate-exit-code";

export interface Outcome {
  seed: number;
  label: string;
  cloud: string;
  field?: string;
  kstate: KstateVerdict;
  kops: Verdict;
  problems: { kind: ProblemKind; detail: string }[];
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Running the two

export interface KopsRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment kops runs in: offline credentials for every cloud the generator draws. */
export function oracleKopsEnv(ec2Endpoint: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    KOPS_RUN_TOO_NEW_VERSION: "1",
    // No image digests looked up in a registry (a DNS lookup that can take seconds offline); the
    // checks do not depend on them.
    KOPS_FEATURE_FLAGS: "-ImageDigest",
    AWS_ENDPOINT_URL_EC2: ec2Endpoint,
    AWS_ACCESS_KEY_ID: "offline",
    AWS_SECRET_ACCESS_KEY: "offline",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    HCLOUD_TOKEN: "unused-offline",
    DIGITALOCEAN_ACCESS_TOKEN: "unused-offline",
    SCW_ACCESS_KEY: "SCWXXXXXXXXXXXXXXXXX",
    SCW_SECRET_KEY: "11111111-1111-1111-1111-111111111111",
    SCW_DEFAULT_PROJECT_ID: "11111111-1111-1111-1111-111111111111",
  };
}

export function runKops(binary: string, args: string[], env: Record<string, string>): Promise<KopsRun> {
  return new Promise((resolve) => {
    execFile(binary, args, { env, maxBuffer: 16 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** kops's own words: its `Error:` lines, else the last lines it printed, without the file-store warning. */
function kopsMessage(r: KopsRun): string {
  const lines = r.stderr.split("\n").filter((l) => l.trim() && !/factory\.go.*local filesystem state store|failed to digest image/.test(l));
  const errors = lines.filter((l) => l.startsWith("Error:"));
  return (errors.length ? errors : lines.slice(-3)).join("\n").slice(0, 2000);
}

function parseStream(text: string): Doc[] {
  return parseAllDocuments(text, { version: "1.1" }).map((d) => d.toJS() as unknown).filter((d): d is Doc => typeof d === "object" && d !== null && !Array.isArray(d));
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[]).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/**
 * The editor `kops edit cluster` runs: the first time it adds an annotation (a change, so kops checks
 * and writes); when kops re-opens it with a complaint, it keeps the file in KSTATE_ORACLE_EDIT_LOG and
 * changes nothing, so kops gives up.
 */
const EDITOR = `#!/bin/sh
if grep -q "kstate-oracle/edit" "$1"; then cp "$1" "$KSTATE_ORACLE_EDIT_LOG"; exit 0; fi
sed -i '0,/^metadata:$/s//metadata:\\n  annotations:\\n    kstate-oracle\\/edit: "1"/' "$1"
`;

/** At most `n` at a time. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export class Oracle {
  private readonly editor: string;
  private readonly slots: Slots;

  /** `parallel`: how many kops processes run at once, whatever the number of sets judged at once. */
  constructor(private readonly kopsBinary: string, private readonly env: Record<string, string>, private readonly root: string, parallel = 2) {
    this.editor = path.join(root, "editor.sh");
    fs.writeFileSync(this.editor, EDITOR, { mode: 0o755 });
    this.slots = new Slots(parallel);
  }

  private kops(args: string[], env: Record<string, string> = this.env): Promise<KopsRun> {
    return this.slots.run(() => runKops(this.kopsBinary, args, env));
  }

  private async readBack(set: DocumentSet, storeUrl: string, created: boolean): Promise<string[]> {
    const got = await this.kops(["get", "all", set.clusterName, "--state", storeUrl, "-o", "yaml"], this.env);
    if (got.code !== 0) return [`kops get all failed: ${kopsMessage(got)}`];
    let docs: Doc[];
    try {
      docs = parseStream(got.stdout).filter((d) => d.kind === "Cluster" || d.kind === "InstanceGroup");
    } catch (e) {
      return [`kops get all printed YAML that does not parse: ${(e as Error).message}`];
    }
    return compareReadBack(set, docs, storeUrl, created);
  }

  async kstateVerdict(set: DocumentSet, file: string, store: string): Promise<KstateVerdict> {
    fs.mkdirSync(store, { recursive: true });
    const url = `file://${store}`;
    const r = await kstate(["apply", "-f", file, "--yes", "--state", url], { env: {} });
    const accepted = r.code === 0;
    return {
      accepted, code: r.code, message: (accepted ? r.stdout.trim().split("\n").pop()! : r.stderr.trim()).slice(0, 2000),
      written: accepted ? [] : listFiles(store),
      readBack: accepted ? await this.readBack(set, url, false) : [],
    };
  }

  /**
   * kops's verdict: `create -f`, read back, then the checks `create -f` leaves out. `create -f`
   * checks each document alone (ValidateCluster, ValidateInstanceGroup); the cluster with its groups
   * (DeepValidate: subnets the groups name, etcd members' groups, sizes…) is checked only when the
   * cluster is next changed. `kops edit cluster` runs exactly that, offline: an editor that adds an
   * annotation makes the change, and kops re-opens the editor with its complaint when the check fails.
   * What fails after the check (reading the cloud's volumes, say) is not a verdict on the documents.
   */
  async kopsVerdict(set: DocumentSet, file: string, store: string): Promise<Verdict> {
    fs.mkdirSync(store, { recursive: true });
    const url = `file://${store}`;
    const created = await this.kops(["create", "-f", file, "--state", url]);
    if (created.code !== 0) return { accepted: false, message: kopsMessage(created) };
    const diffs = await this.readBack(set, url, true);
    if (diffs.length > 0) return { accepted: false, message: `created, but kops reads back something else:\n${diffs.join("\n")}` };
    const log = path.join(path.dirname(store), "edit.log");
    const edit = await this.kops(["edit", "cluster", set.clusterName, "--state", url], { ...this.env, EDITOR: this.editor, KSTATE_ORACLE_EDIT_LOG: log, TMPDIR: path.dirname(store) });
    if (fs.existsSync(log)) {
      const complaint = fs.readFileSync(log, "utf8").split("\n").filter((l) => l.startsWith("#") && !/^# (Please edit|and an empty|reopened with|\s*$)/.test(l)).map((l) => l.replace(/^#\s?/, "")).join("\n").trim();
      return { accepted: false, message: `created and read back, but kops edit cluster (DeepValidate) refuses it:\n${complaint.slice(0, 2000)}` };
    }
    // Past the check, kops reads the etcd volumes from the cloud (FindClusterStatus: on AWS, which
    // the catalogue stand-in does not answer, and on DigitalOcean, which is not reachable), then
    // writes the edit. Anything else means the check did not run: said so, and not taken as a yes.
    const edited = fs.readFileSync(path.join(store, set.clusterName, "config"), "utf8").includes("kstate-oracle/edit");
    if ((edit.code === 0 && edited) || (edit.code !== 0 && /Error: (error describing volumes|failed to get all volumes)/.test(edit.stderr))) {
      return { accepted: true, message: "created, read back as written, and kops edit cluster (DeepValidate) takes it" };
    }
    return { accepted: false, message: `created and read back, but kops edit cluster did not get to its check (exit ${edit.code}):\n${kopsMessage(edit) || edit.stdout.trim()}` };
  }

  /** Both verdicts on one set, in stores of its own under the oracle's root (removed afterwards). */
  async judge(set: DocumentSet): Promise<Outcome> {
    const dir = fs.mkdtempSync(path.join(this.root, `${set.seed}-`));
    const file = path.join(dir, "cluster.yaml");
    fs.writeFileSync(file, set.text);
    try {
      // kstate runs in this process, beside kops; kops's processes take turns in the slots.
      const [ks, kp] = await Promise.all([this.kstateVerdict(set, file, path.join(dir, "s1")), this.kopsVerdict(set, file, path.join(dir, "s2"))]);
      return compare(set, file, ks, kp);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The leaf field a mutation touched: `rootVolumeSise` of `instancegroup/nodes:spec.rootVolumeSise`. */
function leafOf(field: string): string {
  const p = field.slice(field.indexOf(":") + 1).split(".").filter((s) => !/^\d+$/.test(s));
  return p[p.length - 1] ?? field;
}

/** Where the verdicts disagree, and what else is wrong with kstate's side. */
export function compare(set: DocumentSet, file: string, ks: KstateVerdict, kp: Verdict): Outcome {
  const problems: Outcome["problems"] = [];
  if (ks.accepted !== kp.accepted) problems.push({ kind: "verdict", detail: `kstate ${ks.accepted ? "accepts" : "refuses"}, kops ${kp.accepted ? "accepts" : "refuses"}` });
  if (ks.accepted && ks.readBack.length > 0) problems.push({ kind: "kstate-store-read-by-kops", detail: ks.readBack.join("\n") });
  if (!ks.accepted) {
    if (ks.code !== 1) problems.push({ kind: "kstate-exit-code", detail: `exit ${ks.code}, not 1` });
    if (ks.written.length > 0) problems.push({ kind: "refusal-wrote", detail: `the refusal left ${ks.written.join(", ")} in the store` });
    const names = [file, ...(set.field ? [leafOf(set.field)] : [])];
    if (!names.some((n) => ks.message.includes(n))) problems.push({ kind: "refusal-message", detail: `the message names neither ${names.map((n) => JSON.stringify(n)).join(" nor ")}` });
  }
  return { seed: set.seed, label: set.label, cloud: set.cloud, ...(set.field ? { field: set.field } : {}), kstate: ks, kops: kp, problems, text: set.text };
}
