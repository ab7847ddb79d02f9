/**
 * `kops rolling-update cluster`, opt-in after an update: kops's read-only report (which instance
 * groups have instances that need replacing) as a preview, and the roll itself with --yes. Without
 * `cloudOnly` kops drains and validates through the cluster's Kubernetes API.
 */
import { parseGoDuration } from "./duration";
import { KopsFailedError, runKops } from "./kops-process";
import type { KopsBinary } from "./kops-update";
import { type Environment, ValidationError } from "../vfs";

/** kops's rolling-update flags, by the names terraform-provider-kops gives them. */
export interface RollingUpdateOptions {
  /** Replace instances without draining or validating through the API (--cloudonly: downtime). */
  cloudOnly?: boolean;
  /** Replace every instance, needed or not (--force). */
  force?: boolean;
  instanceGroups?: string[];
  /** control-plane, apiserver, node, bastion. */
  instanceGroupRoles?: string[];
  /** Go durations: waits between instances, drain and validation limits. */
  controlPlaneInterval?: string;
  nodeInterval?: string;
  bastionInterval?: string;
  drainTimeout?: string;
  postDrainDelay?: string;
  validationTimeout?: string;
  validateCount?: number;
  failOnDrainError?: boolean;
  failOnValidateError?: boolean;
}

/** One row of kops's report. */
export interface RollingGroup {
  name: string;
  status: string;
  needUpdate: number;
  ready: number;
  min: number;
  target: number;
  max: number;
  /** Older kops printed the group's node count too. */
  nodes?: number;
}

const DURATIONS = [["controlPlaneInterval", "--control-plane-interval"], ["nodeInterval", "--node-interval"], ["bastionInterval", "--bastion-interval"], ["drainTimeout", "--drain-timeout"], ["postDrainDelay", "--post-drain-delay"], ["validationTimeout", "--validation-timeout"]] as const;
const ROLES = new Set(["control-plane", "apiserver", "node", "bastion"]);

/** kops's arguments; `apply` rolls (--yes), otherwise the report. Bad options are a ValidationError naming the option. */
export function rollingUpdateArgs(name: string, state: string, options: RollingUpdateOptions, apply: boolean): string[] {
  const bad = (field: string, message: string) => new ValidationError(`rollingUpdate.${field}: ${message}`, { problems: [{ path: `rollingUpdate.${field}`, message }] });
  const args = ["rolling-update", "cluster", name, "--state", state];
  if (apply) args.push("--yes");
  if (options.cloudOnly) args.push("--cloudonly");
  if (options.force) args.push("--force");
  for (const g of options.instanceGroups ?? []) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(g)) throw bad("instanceGroups", `${JSON.stringify(g)} is not an instance group name`);
    args.push("--instance-group", g);
  }
  for (const r of options.instanceGroupRoles ?? []) {
    if (!ROLES.has(r)) throw bad("instanceGroupRoles", `${JSON.stringify(r)} is not one of ${[...ROLES].join(", ")}`);
    args.push("--instance-group-roles", r);
  }
  for (const [field, flag] of DURATIONS) {
    const v = options[field];
    if (v === undefined) continue;
    parseGoDuration(v, `rollingUpdate.${field}`);
    args.push(`${flag}=${v}`);
  }
  if (options.validateCount !== undefined) {
    if (!Number.isInteger(options.validateCount) || options.validateCount < 0) throw bad("validateCount", "must be a whole number, 0 or more");
    args.push(`--validate-count=${options.validateCount}`);
  }
  if (options.failOnDrainError !== undefined) args.push(`--fail-on-drain-error=${options.failOnDrainError}`);
  if (options.failOnValidateError !== undefined) args.push(`--fail-on-validate-error=${options.failOnValidateError}`);
  return args;
}

/** kops's table (NAME STATUS NEEDUPDATE READY MIN TARGET MAX, and NODES in older kops) as rows; none when kops printed none. */
export function parseRollingReport(stdout: string): RollingGroup[] {
  const lines = stdout.split("\n");
  const head = lines.findIndex((l) => /^NAME\s+STATUS\s+NEEDUPDATE\s+READY\s+MIN\s+TARGET\s+MAX(\s+NODES)?$/.test(l.trim()));
  if (head < 0) return [];
  const columns = lines[head]!.trim().split(/\s+/).length;
  const rows: RollingGroup[] = [];
  for (const line of lines.slice(head + 1)) {
    const f = line.trim().split(/\s+/);
    if (f.length !== columns || f.slice(2).some((n) => !/^\d+$/.test(n))) break;
    const [name, status, ...n] = f as [string, string, ...string[]];
    const [needUpdate, ready, min, target, max, nodes] = n.map(Number) as [number, number, number, number, number, number | undefined];
    rows.push({ name, status, needUpdate, ready, min, target, max, ...(nodes !== undefined ? { nodes } : {}) });
  }
  return rows;
}

/** The report as preview lines: each group that needs replacing, or that none does. */
export function describeRolling(rows: RollingGroup[], options: RollingUpdateOptions): string[] {
  const rolling = rows.filter((r) => r.needUpdate > 0 || options.force);
  if (rolling.length === 0) return ["rolling update: no instance needs replacing"];
  return rolling.map((r) => `rolling update: ${r.name} (${r.status}): replace ${options.force ? r.target : r.needUpdate} of ${r.target} instance(s)${options.cloudOnly ? ", cloud only (no drain, no validation)" : ""}`);
}

/** Runs kops rolling-update (the report, or with `apply` the roll) and returns its table. */
export async function runRollingUpdate(req: { kops: KopsBinary; state: string; name: string; env: Environment; options: RollingUpdateOptions; apply: boolean; timeoutMs?: number; onLine?: (line: string, stream: "stdout" | "stderr") => void }): Promise<RollingGroup[]> {
  const args = rollingUpdateArgs(req.name, req.state, req.options, req.apply);
  const run = await runKops(req.kops.path, args, req.env, { timeoutMs: req.timeoutMs ?? 4 * 3600_000, ...(req.onLine ? { onLine: req.onLine } : {}) });
  const output = { stdout: run.stdout, stderr: run.stderr };
  const command = `kops ${args.join(" ")}`;
  if (run.stopped) throw new KopsFailedError(`${command}: ${run.stopped}`, output);
  if (run.code !== 0) throw new KopsFailedError(`${command} failed (exit ${run.code}):\n${(run.stderr || run.stdout).trimEnd().split("\n").slice(-20).join("\n")}`, output);
  return parseRollingReport(run.stdout);
}
