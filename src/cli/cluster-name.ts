/**
 * The cluster a command is about, as kops takes it (cmd/kops/root.go): the argument, else --name,
 * else KOPS_CLUSTER_NAME (kops's default for --name). kops refuses any argument beside --name or
 * KOPS_CLUSTER_NAME; kstate takes the same name given twice, and refuses two different ones.
 */
import { isDns1123Subdomain } from "../ops/validate";
import { UsageError } from "./io";

type Env = Record<string, string | undefined>;

/** What kops's --name holds: the flag (or `flagName`, e.g. --cluster), else KOPS_CLUSTER_NAME. */
function flagOrEnv(flag: string | undefined, env: Env, flagName: string): { name: string; from: string } | undefined {
  if (flag !== undefined && flag !== "") return { name: flag, from: flagName };
  return env.KOPS_CLUSTER_NAME ? { name: env.KOPS_CLUSTER_NAME, from: "KOPS_CLUSTER_NAME" } : undefined;
}

/** The clusters a listing names (`get clusters a b`): the arguments, else --name, else KOPS_CLUSTER_NAME, else none. */
export function clusterNames(args: readonly string[], flag: string | undefined, env: Env, flagName = "--name", command = "kstate"): string[] {
  const other = flagOrEnv(flag, env, flagName);
  const differs = other && args.find((a) => a !== other.name);
  if (other && differs !== undefined) throw new UsageError(`two cluster names: ${JSON.stringify(differs)} (argument) and ${JSON.stringify(other.name)} (${other.from}); give one`);
  const names = args.length > 0 ? [...new Set(args)] : other ? [other.name] : [];
  return names.map((n) => checked(command, n));
}

/** A name is a folder of the store: one that is no DNS name (`a/`, `../b`, `x/config`) would name another path. */
function checked(command: string, name: string): string {
  if (!isDns1123Subdomain(name.toLowerCase())) throw new UsageError(`${command}: ${JSON.stringify(name)} is not a cluster name (a DNS name: letters, digits, '-' and '.')`);
  return name;
}

/**
 * The one cluster `command` (e.g. `edit cluster`) is about. `args` are the positional arguments
 * that may name it; undefined where the arguments name something else (`edit ig GROUP`).
 */
export function clusterName(command: string, args: readonly string[] | undefined, flag: string | undefined, env: Env, flagName = "--name"): string {
  if (args && args.length > 1) {
    // kops's hint, for the usual cause: `--yes true` leaves `true` as an argument.
    const hint = args.some((a) => a === "true" || a === "false") ? "; a boolean flag takes its value after =: --bastion=true, not --bastion true" : "";
    throw new UsageError(`${command} takes one cluster name (got ${args.map((a) => JSON.stringify(a)).join(", ")})${hint}`);
  }
  const [name] = clusterNames(args ?? [], flag, env, flagName, command);
  if (!name) throw new UsageError(`${command} needs a cluster name: ${args ? "the argument, " : ""}${flagName} NAME or KOPS_CLUSTER_NAME`);
  return checked(command, name);
}
