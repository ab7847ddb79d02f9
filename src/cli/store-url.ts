import { UsageError } from "./io";

/** The state store: --state, else KSTATE_STATE_STORE, else KOPS_STATE_STORE. */
export function stateStore(flag: string | undefined, env: Record<string, string | undefined>): string {
  const url = flag ?? env.KSTATE_STATE_STORE ?? env.KOPS_STATE_STORE;
  if (!url) throw new UsageError("no state store: pass --state URL, or set KSTATE_STATE_STORE or KOPS_STATE_STORE (e.g. s3://my-kops-state)");
  return url.replace(/\/$/, "");
}
