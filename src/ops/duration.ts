/** Go's duration syntax (`18h`, `1h30m`, `90m`, `3600s`), as kops's flags take it. */
import { ValidationError } from "../vfs/errors";

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration in seconds; `what` names the setting in the error. */
export function parseGoDuration(text: string, what: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new ValidationError(`${what}: ${JSON.stringify(text)} is not a duration (e.g. 18h, 90m, 1h30m)`, { problems: [{ path: what, message: "not a duration" }] });
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
}
