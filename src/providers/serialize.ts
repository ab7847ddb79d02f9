import type * as pulumi from "@pulumi/pulumi";

/** The version of this package, captured by each serialized provider to name what to install. */
const PACKAGE_VERSION: string = (require("../../../package.json") as { version: string }).version;

/** The CRUD a provider module under src/providers/ exports as `provider`. */
export type ProviderImpl<I, O> = Required<Omit<pulumi.dynamic.ResourceProvider<I, O>, "configure">>
  & Pick<pulumi.dynamic.ResourceProvider<I, O>, "configure">;

/** The names `kstate/providers` (providers/index.ts) exports the provider objects under. */
export type ProviderName = "stateStore" | "clusterConfig" | "clusterUpdate" | "migration";

/**
 * The provider Pulumi keeps in state (as `__provider`, in the inputs and the outputs of every
 * resource): a module of a few hundred bytes whose `handler()` returns the real implementation,
 * `require`d at run time from the installed `kstate` package's one providers entry when the
 * program's folder has one, else from the compiled files this program was built from. So refresh
 * and destroy run the installed code, not a copy frozen in state, and no SDK client is ever
 * serialized. It is written by hand rather than by Pulumi's closure serializer, whose copy of the
 * same code takes ten times the bytes, twice per resource. (Stacks written before name
 * `kstate/providers/<module>`, which package.json still maps.)
 */
export function providerSource(name: ProviderName, builtDir: string): string {
  const missing = `\`kstate resources need the kstate package (${PACKAGE_VERSION} wrote them); Pulumi cannot find it from \${process.cwd()}: run npm install kstate@${PACKAGE_VERSION} in the program's folder, then run the command again\``;
  return `exports.handler=()=>{let e;try{e=require("kstate/providers")}catch(x){if(x.code!=="MODULE_NOT_FOUND")throw x;try{e=require(${JSON.stringify(builtDir)})}catch(y){if(y.code!=="MODULE_NOT_FOUND")throw y;throw new Error(${missing})}}return e.${name}};\n`;
}

/**
 * A resource's output names, listed once for its provider and its resource class, as a `const`
 * tuple checked at compile time to name every key of `O` and no other:
 * `outputNames<MigrationOutputs>()("clusterName", …)`.
 */
export function outputNames<O>() {
  return <const K extends readonly (keyof O & string)[]>(...names: K & ([Exclude<keyof O, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof O, K[number]> })): K => names;
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
