/**
 * kops's API schema for the kops version kstate writes for, generated from kops's Go types by
 * `tools/kops-schema` (`scripts/schema.sh write`). Imported by itself so that it is loaded
 * only by what checks documents.
 */
import type { KopsSchema } from "./format";
import schema from "./kops-v1.36.2.json";

export const KOPS_SCHEMA = schema as unknown as KopsSchema;
