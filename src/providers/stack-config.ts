import type * as pulumi from "@pulumi/pulumi";

/**
 * Settings a provider process takes from the stack's configuration (never credentials: those are
 * the resources' own inputs, or come from the environment; store-access.ts puts them together).
 */
export interface StackConfig {
  awsRegion?: string;
  gcpProject?: string;
}

let current: StackConfig = {};

/** Called from each provider's `configure`, once per provider process. */
export function configureFromStack(req: pulumi.dynamic.ConfigureRequest): void {
  const awsRegion = req.config.get("aws:region");
  const gcpProject = req.config.get("gcp:project");
  current = { ...(awsRegion ? { awsRegion } : {}), ...(gcpProject ? { gcpProject } : {}) };
}

export function stackConfig(): StackConfig {
  return current;
}
