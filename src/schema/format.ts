/**
 * The shape of the kops API schema kstate checks documents against (`kops-<version>.json`,
 * generated from kops's Go types by `tools/kops-schema`): a closed subset of JSON Schema
 * 2020-12, so the checker and the type generator handle exactly these forms and nothing else.
 *
 * The file:
 *
 *     {
 *       "$schema": "https://json-schema.org/draft/2020-12/schema",
 *       "title": "...",
 *       "x-kops-version": "v1.36.2",
 *       "x-kinds": { "Cluster": { "$ref": "#/$defs/Cluster" }, "InstanceGroup": ..., ... },
 *       "$defs": { "Cluster": <node>, "ClusterSpec": <node>, ... }
 *     }
 *
 * Names in `$defs` are the Go type names, prefixed with the Go package name only where two
 * packages share one (`v1.ObjectMeta` stays `ObjectMeta` unless kops has one too).
 * Keys are written in sorted order so regenerating gives the same bytes.
 */

/** One node. Every node may carry `description` (the Go doc comment, first paragraph). */
export type SchemaNode =
  | RefNode
  | StructNode
  | MapNode
  | ArrayNode
  | StringNode
  | IntegerNode
  | NumberNode
  | BooleanNode
  | SpecialNode
  | AnyNode;

interface Described {
  description?: string;
}

/** A named type: `{"$ref": "#/$defs/KubeletConfigSpec"}`. */
export interface RefNode extends Described {
  $ref: string;
}

/**
 * A Go struct: its JSON fields (embedded structs flattened, `json:"-"` left out), no others.
 * `required` lists the fields kops refuses a document without (from kops's validation, not
 * from the Go types, which have no such notion); absent when none are.
 */
export interface StructNode extends Described {
  type: "object";
  properties: Record<string, SchemaNode>;
  additionalProperties: false;
  required?: string[];
}

/** A Go map with string keys: `map[string]T`. */
export interface MapNode extends Described {
  type: "object";
  additionalProperties: SchemaNode;
}

/** A Go slice or array (but not `[]byte`, which is a base64 string). */
export interface ArrayNode extends Described {
  type: "array";
  items: SchemaNode;
}

/**
 * A Go string. `enum`: the only values kops accepts (checked). `x-kops-values`: the values
 * kops declares as constants of the field's named type, where kops accepts others too
 * (suggestions for completion, not checked). `format`: `byte` for `[]byte` (base64),
 * `date-time` for `metav1.Time` (RFC 3339, or null).
 */
export interface StringNode extends Described {
  type: "string";
  enum?: string[];
  "x-kops-values"?: string[];
  format?: "byte" | "date-time";
}

/** A Go integer, with its type's range: int32 is -2147483648..2147483647, uint8 0..255… */
export interface IntegerNode extends Described {
  type: "integer";
  minimum: number;
  maximum: number;
  /** The Go type, e.g. `int32`, for messages. */
  "x-go-type": string;
}

/** A Go float32 or float64. */
export interface NumberNode extends Described {
  type: "number";
}

export interface BooleanNode extends Described {
  type: "boolean";
}

/**
 * A Kubernetes type with its own JSON form:
 * - `quantity` (`resource.Quantity`): a string such as `100Mi`, `0.5`, `2k`, or a number;
 * - `duration` (`metav1.Duration`): a Go duration string such as `1m30s` (`time.ParseDuration`);
 * - `int-or-string` (`intstr.IntOrString`): an integer or a string.
 */
export interface SpecialNode extends Described {
  "x-kops-type": "quantity" | "duration" | "int-or-string";
}

/** Anything (`interface{}`, `runtime.RawExtension`, `metav1.FieldsV1`): not checked. */
export interface AnyNode extends Described {
  "x-kops-any": true;
}

export interface KopsSchema {
  $schema: string;
  title: string;
  "x-kops-version": string;
  "x-kinds": Record<string, RefNode>;
  $defs: Record<string, SchemaNode>;
}
