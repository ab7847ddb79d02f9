/**
 * The documents a ClusterConfig's diff found it would write, kept in this provider process until
 * the resource writes them (or plans again). A ClusterUpdate of the same cluster is planned later
 * in the same preview (it depends on the ClusterConfig's outputs, so the engine plans it after),
 * and runs kops's dry run against the store as the ClusterConfig will leave it: the preview shows
 * what `up` will do, not what the store says before the change. Every kstate resource of a stack
 * runs in one dynamic-provider process, so this is the one place both see.
 */
import { canonicalUrl } from "../vfs";

/** File (`config`, `instancegroup/NAME`) to the text it will hold, or null where it goes. */
export type DocumentTexts = ReadonlyMap<string, string | null>;

/** What a ClusterConfig's diff found it would write. */
export interface PlannedWrites {
  documents: DocumentTexts;
  /** Its key changes, one line a file (`pki/ssh/public/admin/<id>: create (…)`): kops reads keys from the store itself. */
  keys: readonly string[];
}

const planned = new Map<string, PlannedWrites>();

function key(store: string, name: string): string {
  return `${canonicalUrl(store)}\0${name}`;
}

export function rememberPlanned(store: string, name: string, writes: PlannedWrites): void {
  if (planned.size > 64) planned.clear();
  planned.set(key(store, name), writes);
}

export function plannedWrites(store: string, name: string): PlannedWrites | undefined {
  return planned.get(key(store, name));
}

export function forgetPlanned(store?: string, name?: string): void {
  if (store === undefined || name === undefined) planned.clear();
  else planned.delete(key(store, name));
}
