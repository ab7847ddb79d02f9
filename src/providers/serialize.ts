import type * as pulumi from "@pulumi/pulumi";

/** The version of this package, captured by each serialized provider to name what to install. */
const PACKAGE_VERSION: string = (require("../../../package.json") as { version: string }).version;

/** The CRUD a provider module under src/providers/ exports as `provider`. */
export type ProviderImpl<I, O> = Required<Omit<pulumi.dynamic.ResourceProvider<I, O>, "configure">>
  & Pick<pulumi.dynamic.ResourceProvider<I, O>, "configure">;

/**
 * The provider object Pulumi serializes into state for one resource type. It captures two
 * strings and nothing else: each method `require`s the real implementation at run time, from
 * the installed `kstate` package when the program's folder has one, else from the compiled
 * files this program was built from. So refresh and destroy run the installed code, not a copy
 * frozen in state, and no SDK client is ever serialized.
 */
export function serializableProvider<I, O>(moduleName: string, builtDir: string): pulumi.dynamic.ResourceProvider<I, O> {
  const version = PACKAGE_VERSION;
  const load = (): ProviderImpl<I, O> => {
    let mod: { provider: ProviderImpl<I, O> };
    try {
      mod = require(`kstate/providers/${moduleName}`);
    } catch (e) {
      if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
      try {
        mod = require(`${builtDir}/${moduleName}`);
      } catch (again) {
        if ((again as { code?: string }).code !== "MODULE_NOT_FOUND") throw again;
        throw new Error(`this stack's kstate resources need the kstate package (version ${version} wrote them), and Pulumi cannot find it from ${process.cwd()}: run \`npm install kstate@${version}\` in the program's folder, then run the command again`);
      }
    }
    return mod.provider;
  };
  return {
    configure: async (req) => load().configure?.(req),
    check: async (olds, news) => load().check(olds, news),
    diff: async (id, olds, news) => load().diff(id, olds, news),
    create: async (inputs) => load().create(inputs),
    read: async (id, props) => load().read(id, props),
    update: async (id, olds, news) => load().update(id, olds, news),
    delete: async (id, props) => load().delete(id, props),
  };
}

/**
 * A dynamic resource's properties: the inputs given, and every output key, even those no input
 * sets, since only properties passed to the constructor become outputs.
 */
export function withOutputKeys<O>(args: object, outputs: readonly (keyof O & string)[]): Record<string, unknown> {
  const props: Record<string, unknown> = { ...args };
  for (const k of outputs) if (!(k in props)) props[k] = undefined;
  return props;
}

/** Pulumi's placeholder, in a dynamic provider's inputs, for a value not known until apply. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when any part of `value` is not known yet (during a preview). */
/** Whether `value` is itself a value not known yet. */
export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

export function containsUnknown(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes(UNKNOWN);
}

/**
 * Check failures as the engine may print them: for a property that holds a secret (a CA key, a
 * secret value, a passphrase) the failure names the property in its reason only, since the
 * engine prints the value of a property a failure names beside it.
 */
export function sealedFailures(failures: readonly pulumi.dynamic.CheckFailure[], secretProperties: readonly string[]): pulumi.dynamic.CheckFailure[] {
  return failures.map((f) => (secretProperties.includes(f.property.split(/[.[]/)[0]!) ? { property: "", reason: `${f.property}: ${f.reason}` } : f));
}
