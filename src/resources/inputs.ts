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
