/**
 * The `kstate` provider as a Pulumi provider plugin: the same providers the TypeScript classes run
 * (src/providers), reached by type token (`kstate:index:ClusterConfig`, …) instead of a dynamic
 * resource's `__provider`. What the classes do on the program's side is done here: a ClusterConfig's
 * `manager` is made from its URN, a StateStore's policies from its outputs, and the properties the
 * schema marks secret are sealed as Pulumi secrets in every answer (check's inputs, the outputs),
 * so they reach state encrypted whichever language the program is in.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import { clusterConfig, clusterUpdate, migration, stateStore } from "../providers";
import type { ProviderImpl } from "../providers/serialize";
import { getKubeconfig, type GetKubeconfigArgs } from "../resources/kubeconfig";
import { ValidationError } from "../vfs/errors";
import { storePolicies } from "../resources/policies";
import { reportTo } from "../providers/report";
import { clusterOfConfigBase } from "../store/layout";
import type { EngineLog } from "./engine-log";
import { FUNCTIONS, packageSchema, RESOURCES, type ResourceName, secretNames } from "./schema";

const SIG = pulumi.runtime.specialSigKey;
const SECRET = pulumi.runtime.specialSecretSig;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyProvider = ProviderImpl<any, any>;

const IMPLEMENTATIONS: Record<ResourceName, AnyProvider> = {
  StateStore: stateStore,
  ClusterConfig: clusterConfig,
  StateStoreMigration: migration,
  ClusterUpdate: clusterUpdate,
};

type Props = Record<string, unknown>;

/** The resource a URN names: its type (the last of the parent chain) and its name. */
export function parseUrn(urn: string): { project: string; stack: string; type: string; name: string } {
  const parts = urn.split("::");
  const [, stack = ""] = /^urn:pulumi:(.*)$/.exec(parts[0] ?? "") ?? [];
  const types = (parts[2] ?? "").split("$");
  return { stack, project: parts[1] ?? "", type: types[types.length - 1] ?? "", name: parts.slice(3).join("::") };
}

function resourceOf(urn: string): { name: ResourceName; impl: AnyProvider; secrets: string[] } {
  const { type } = parseUrn(urn);
  const name = type.replace(/^kstate:index:/, "");
  if (!Object.hasOwn(RESOURCES, name) || !type.startsWith("kstate:index:")) throw new Error(`the kstate provider has no resource type ${JSON.stringify(type)} (it has ${Object.keys(RESOURCES).map((r) => `kstate:index:${r}`).join(", ")})`);
  const resource = name as ResourceName;
  return { name: resource, impl: IMPLEMENTATIONS[resource], secrets: secretNames(RESOURCES[resource].outputs) };
}

function isSecret(v: unknown): v is { value?: unknown } {
  return typeof v === "object" && v !== null && (v as Props)[SIG] === SECRET;
}

/** `value` with every Pulumi secret replaced by what it holds, and the top-level keys that held one. */
export function unseal(props: Props | undefined): { values: Props; sealed: Set<string> } {
  const sealed = new Set<string>();
  const open = (v: unknown, key: string): unknown => {
    if (isSecret(v)) {
      sealed.add(key);
      return open(v.value, key);
    }
    if (Array.isArray(v)) return v.map((x) => open(x, key));
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, open(x, key)]));
    return v;
  };
  const values = Object.fromEntries(Object.entries(props ?? {}).map(([k, v]) => [k, open(v, k)]));
  return { values, sealed };
}

/** `value` without the keys set to `undefined`, at any depth (a protobuf Struct has no such value). */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : defined(v)));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, defined(v)]));
  return value;
}

/** `props` with the named keys (those present) as Pulumi secrets, as a protobuf Struct can carry them. */
export function seal(props: Props, keys: Iterable<string>): Props {
  const out = defined(props) as Props;
  for (const k of keys) if (out[k] !== undefined && out[k] !== null) out[k] = { [SIG]: SECRET, value: out[k] };
  return out;
}

/** The outputs the TypeScript StateStore computes from its outputs, for programs in other languages. */
function withPolicies(outs: Props): Props {
  const { scheme, bucket, encryption, kmsKeyId } = outs as { scheme?: string; bucket?: string; encryption?: string; kmsKeyId?: string };
  if (scheme === undefined || bucket === undefined) return outs;
  const clientSideKmsKeyId = (outs.clientSideEncryption as { awsKmsKeyId?: string } | undefined)?.awsKmsKeyId;
  return { ...outs, ...storePolicies({ scheme, bucket, encryption, kmsKeyId, clientSideKmsKeyId }) };
}

/** What the program gave, completed as the TypeScript class completes it. */
function given(urn: string, resource: ResourceName, inputs: Props): Props {
  if (resource !== "ClusterConfig") return inputs;
  const { project, stack, name } = parseUrn(urn);
  return { ...inputs, manager: `pulumi:${project}/${stack}/${name}` };
}

/** Outputs as the engine keeps them: secrets sealed (the schema's, and any the inputs had). */
function answer(resource: ResourceName, outs: Props | undefined, secrets: Iterable<string>): Props {
  const all = resource === "StateStore" ? withPolicies(outs ?? {}) : (outs ?? {});
  return seal(all, secrets);
}

/**
 * The store and name a function's arguments name: `store` and `name`, or a ClusterConfig's
 * `configBase` (not known in a preview that creates or changes the cluster, so a program that asks
 * by it gets its kubeconfig once the cluster is stored). Both given must agree.
 */
export function clusterAt(configBase: string | undefined, given: { store?: string; name?: string }): { store?: string; name?: string } {
  if (configBase === undefined) return given;
  const found = clusterOfConfigBase(configBase);
  if (!found) throw new ValidationError(`getKubeconfig: configBase ${JSON.stringify(configBase)} is not a cluster's configBase (STORE/NAME)`, { problems: [{ path: "configBase", message: "not STORE/NAME" }] });
  for (const k of ["store", "name"] as const) {
    if (given[k] !== undefined && given[k] !== found[k]) throw new ValidationError(`getKubeconfig: ${k} ${JSON.stringify(given[k])} is not the configBase's (${JSON.stringify(found[k])}); give one or the other`, { problems: [{ path: k, message: "not the configBase's" }] });
  }
  return found;
}

export class KstateProvider implements provider.Provider {
  readonly schema: string;

  /** `log`: where the providers' messages go (the engine's log, under each call's resource). */
  constructor(readonly version: string, private readonly log?: EngineLog) {
    this.schema = JSON.stringify(packageSchema(version));
    if (log) reportTo((text) => log.info(text));
  }

  /** Runs one call of the engine's for `urn`, its messages logged under it before the answer. */
  private async serve<T>(urn: string, fn: () => Promise<T>): Promise<T> {
    if (!this.log) return fn();
    const log = this.log;
    try {
      return await log.within(urn, fn);
    } finally {
      await log.flushed();
    }
  }

  check(urn: string, olds: Props, news: Props): Promise<provider.CheckResult> {
    return this.serve(urn, async () => {
      const r = resourceOf(urn);
      const n = unseal(news);
      const result = await r.impl.check(unseal(olds).values, given(urn, r.name, n.values));
      return { ...(result.inputs ? { inputs: seal(result.inputs as Props, [...r.secrets, ...n.sealed]) } : {}), ...(result.failures ? { failures: [...result.failures] } : {}) };
    });
  }

  diff(id: string, urn: string, olds: Props, news: Props): Promise<provider.DiffResult> {
    return this.serve(urn, () => resourceOf(urn).impl.diff(id, unseal(olds).values, unseal(news).values));
  }

  create(urn: string, inputs: Props): Promise<provider.CreateResult> {
    return this.serve(urn, async () => {
      const r = resourceOf(urn);
      const i = unseal(inputs);
      const result = await r.impl.create(i.values);
      return { id: result.id, outs: answer(r.name, result.outs as Props, [...r.secrets, ...i.sealed]) };
    });
  }

  read(id: string, urn: string, props?: Props): Promise<provider.ReadResult> {
    return this.serve(urn, async () => {
      const r = resourceOf(urn);
      const p = unseal(props);
      const result = await r.impl.read(id, p.values);
      const secrets = [...r.secrets, ...p.sealed];
      return {
        ...(result.id !== undefined ? { id: result.id } : {}),
        ...(result.props !== undefined ? { props: answer(r.name, result.props as Props, secrets) } : {}),
        ...(result.inputs !== undefined ? { inputs: seal(result.inputs as Props, secrets) } : {}),
      };
    });
  }

  update(id: string, urn: string, olds: Props, news: Props): Promise<provider.UpdateResult> {
    return this.serve(urn, async () => {
      const r = resourceOf(urn);
      const n = unseal(news);
      const result = await r.impl.update(id, unseal(olds).values, n.values);
      return { outs: answer(r.name, result.outs as Props, [...r.secrets, ...n.sealed]) };
    });
  }

  delete(id: string, urn: string, props: Props): Promise<void> {
    return this.serve(urn, () => resourceOf(urn).impl.delete(id, unseal(props).values));
  }

  async invoke(token: string, inputs: Props): Promise<provider.InvokeResult> {
    if (token !== "kstate:index:getKubeconfig") throw new Error(`the kstate provider has no function ${JSON.stringify(token)} (it has kstate:index:getKubeconfig)`);
    const { configBase, ...args } = unseal(inputs).values as Partial<GetKubeconfigArgs> & { configBase?: string };
    const result = await getKubeconfig({ ...args, ...clusterAt(configBase, args) } as GetKubeconfigArgs);
    return { outputs: seal({ ...result }, secretNames(FUNCTIONS.getKubeconfig.outputs)) };
  }
}
