/**
 * kops's config file, where kops users keep their state store (cmd/kops/root.go `initConfig`):
 * `--config FILE`, else the first of `$HOME/.kops.yaml` and `$HOME/.kops/config` that exists,
 * read as YAML. Its `kops_state_store` key (viper reads keys in any case) names the store when
 * neither a flag nor a variable does.
 *
 * kops only warns about a config file it cannot read; kstate refuses, naming the file, so a typo
 * there never sends a write to some other store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as Yaml from "yaml";
import { UsageError } from "./io";

/** What `--config FILE` stands for, as the encryption flags stand for their variables. */
export const CONFIG_VARIABLE = "KSTATE_KOPS_CONFIG";

type Env = Record<string, string | undefined>;

/** The config file kops would read, or undefined when there is none. */
export function kopsConfigFile(env: Env): { file: string; explicit: boolean } | undefined {
  const given = env[CONFIG_VARIABLE];
  if (given) return { file: given, explicit: true };
  const home = env.HOME;
  if (!home) return undefined;
  for (const file of [path.join(home, ".kops.yaml"), path.join(home, ".kops", "config")]) {
    // kops takes the first file that exists, even when another one would hold the key.
    if (fs.existsSync(file)) return { file, explicit: false };
  }
  return undefined;
}

/** The state store the kops config file names, with the file it came from. */
export function storeFromKopsConfig(env: Env): { url: string; file: string } | undefined {
  const found = kopsConfigFile(env);
  if (!found) return undefined;
  const { file } = found;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`kops config file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // Loaded here, not at start: most runs have no config file, and `--version` needs no YAML.
  // As kops (viper): the first document is the settings, and the rest is never read.
  const [first] = (require("yaml") as typeof Yaml).parseAllDocuments(text, { logLevel: "silent" });
  const problem = first?.errors[0] ?? first?.warnings.find((w) => w.code === "BAD_DIRECTIVE");
  if (problem) throw new UsageError(`kops config file ${file}: not valid YAML (${problem.message.split("\n")[0]!.replace(/:$/, "")})`);
  // kops's YAML reader knows YAML 1.1 alone, and refuses a second %YAML directive.
  const versions = prologue(text).filter((line) => /^%YAML(\s|$)/.test(line));
  if (versions.length > 1) throw new UsageError(`kops config file ${file}: not valid YAML (two %YAML directives; kops refuses the file too)`);
  if (versions.length === 1 && !/^%YAML\s+1\.1\s*(#.*)?$/.test(versions[0]!)) throw new UsageError(`kops config file ${file}: not valid YAML (${versions[0]!.trim()}: kops reads YAML 1.1 only, and refuses the file)`);
  const values: unknown = first?.toJS();
  if (values === null || values === undefined) return undefined;
  if (typeof values !== "object" || Array.isArray(values)) throw new UsageError(`kops config file ${file}: expected a map of settings such as kops_state_store: s3://bucket`);
  const keys = Object.keys(values).filter((k) => k.toLowerCase() === "kops_state_store");
  if (keys.length > 1) throw new UsageError(`kops config file ${file}: sets the state store twice (${keys.join(", ")})`);
  if (keys.length === 0) return undefined;
  const url = (values as Record<string, unknown>)[keys[0]!];
  if (typeof url !== "string") throw new UsageError(`kops config file ${file}: ${keys[0]} must be a URL such as s3://bucket (got ${JSON.stringify(url)})`);
  return url === "" ? undefined : { url, file };
}

/** The lines before the first document's `---`: its directives, comments and blank lines. */
function prologue(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => /^---(\s|$)/.test(line));
  return start < 0 ? [] : lines.slice(0, start);
}

/** `argv` without `--config FILE`, and `env` with CONFIG_VARIABLE set to FILE. */
export function takeConfigFlag(argv: string[], env: Env): { argv: string[]; env: Env } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg !== "--config" && !arg.startsWith("--config=")) {
      rest.push(arg);
      continue;
    }
    const value = arg === "--config" ? argv[++i] : arg.slice("--config=".length);
    if (!value) throw new UsageError("--config needs a FILE (kops's config file, e.g. ~/.kops.yaml)");
    file = value;
  }
  return file === undefined ? { argv, env } : { argv: rest, env: { ...env, [CONFIG_VARIABLE]: file } };
}
