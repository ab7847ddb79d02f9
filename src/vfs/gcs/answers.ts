/** How kstate reads GCS's answers (the SDK's errors carry the HTTP status as a numeric `code`). */
import { classifyHttp } from "../backend";
import type { KstateError } from "../errors";
import { isTransientNetworkError, isTransientStatus } from "../retry";

export function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

export function classifyGcs(op: string, url: string, error: unknown): KstateError {
  const status = statusOf(error);
  const rec = error as { message?: string; code?: unknown };
  const detail = status !== undefined ? `${status} ${rec.message ?? ""}`.trim() : [typeof rec.code === "string" ? rec.code : undefined, rec.message].filter(Boolean).join(" ");
  return classifyHttp(op, url, error, status, detail || String(error));
}

export function isGcsTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined) return isTransientStatus(status);
  return isTransientNetworkError(error);
}
