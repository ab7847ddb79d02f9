import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { type ProviderName, providerSource } from "../providers/serialize";

/** The compiled providers beside this file, which a stack's provider falls back to (providerSource). */
const BUILT_PROVIDERS = path.join(__dirname, "..", "providers");

/**
 * A kstate resource as Pulumi's Node.js dynamic provider runs it (type
 * `pulumi-nodejs:dynamic/kstate:<type>`, as `pulumi.dynamic.Resource` registers it), with the
 * hand-written provider of providerSource as its `__provider` instead of a serialized closure.
 */
export abstract class KstateResource extends pulumi.CustomResource {
  constructor(provider: ProviderName, type: string, name: string, props: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    super(`pulumi-nodejs:dynamic/kstate:${type}`, name, { ...props, __provider: providerSource(provider, BUILT_PROVIDERS) }, opts);
  }
}
