import * as pulumi from "@pulumi/pulumi";
import { SECRET_ACCESS_KEYS, type StoreAccess } from "../providers/store-access";

/**
 * A value a program may give as it is or as outputs and promises at any depth: `options: { zones:
 * someOutput }` as well as `options: someOutput`. The SDK resolves them before the provider runs.
 */
export type DeepInput<T> = pulumi.Input<
  T extends readonly (infer U)[] ? DeepInput<U>[]
    : T extends object ? { [K in keyof T]: DeepInput<T[K]> }
      : T
>;

/**
 * A part of a document to merge into what is stored, as `DeepInput` gives it: any field may be
 * left out at any depth, as the stored document may have it (kops's required fields are checked
 * on the merged document). Fields stay closed: one the type does not have is a compile error.
 */
export type PartInput<T> = pulumi.Input<
  T extends readonly (infer U)[] ? PartInput<U>[]
    : T extends object ? { [K in keyof T]?: PartInput<T[K]> }
      : T
>;

/** Store-access inputs (endpoint, region, credentials) as a program gives them: each a value, an output or a promise. */
export type StoreAccessArgs = { [K in keyof StoreAccess]?: pulumi.Input<StoreAccess[K]> };

/** The store-access outputs of a resource that reaches a store: as given (`secretAccessKey` and `sessionToken` are secrets). */
export type StoreAccessOutputs = { readonly [K in keyof StoreAccess]-?: pulumi.Output<StoreAccess[K]> };

/**
 * `access` with its secrets (the secret access key, the session token) as Pulumi secrets, so state
 * holds them encrypted by the stack's secrets provider. Works on a resource's own inputs too.
 * Settings given whole as an output or a promise are a secret whole: their fields cannot be told
 * apart before they resolve.
 */
export function sealAccess<T extends StoreAccessArgs>(access: pulumi.Input<T>): pulumi.Input<T>;
export function sealAccess<T extends StoreAccessArgs>(access: pulumi.Input<T> | undefined): pulumi.Input<T> | undefined;
export function sealAccess<T extends StoreAccessArgs>(access: pulumi.Input<T> | undefined): pulumi.Input<T> | undefined {
  if (access === undefined) return undefined;
  if (pulumi.Output.isInstance(access) || access instanceof Promise) return pulumi.secret(access) as pulumi.Input<T>;
  const sealed: T = { ...(access as T) };
  for (const k of SECRET_ACCESS_KEYS) if (sealed[k] !== undefined) sealed[k] = pulumi.secret(sealed[k]!);
  return sealed;
}
