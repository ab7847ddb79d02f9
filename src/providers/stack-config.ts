import type * as pulumi from "@pulumi/pulumi";

/**
 * Settings a provider process takes from the stack's configuration (never credentials: those
 * come from the environment, so they never enter inputs or state).
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
