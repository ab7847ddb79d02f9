/**
 * The providers' one published entry, `kstate/providers`: the provider object of each resource,
 * which the provider Pulumi serializes into state loads at run time (see serialize.ts). Nothing
 * else of src/providers is published.
 */
export { provider as clusterConfig } from "./cluster-config";
export { provider as clusterUpdate } from "./cluster-update";
export { provider as migration } from "./migration";
export { provider as stateStore } from "./state-store";
