import type * as pulumi from "@pulumi/pulumi";

/**
 * A value a program may give as it is or as outputs and promises at any depth: `options: { zones:
 * someOutput }` as well as `options: someOutput`. The SDK resolves them before the provider runs.
 */
export type DeepInput<T> = pulumi.Input<
  T extends readonly (infer U)[] ? DeepInput<U>[]
    : T extends object ? { [K in keyof T]: DeepInput<T[K]> }
      : T
>;
