/**
 * `listFiles`, `listFolders` and `listTree` over an object store's paged listing (S3, GCS): the
 * stores differ in how a page is fetched and what an object says, not in what a listing means.
 */
import type { FileInfo } from "./path";

/** One page of a listing: the objects, and the folder prefixes a delimiter folded away. */
export interface ListingPage<T> {
  objects: readonly T[];
  prefixes: readonly string[];
}

export interface PagedListing<T> {
  /** Every page of the objects below `prefix`, folded at `delimiter` where one is given. */
  pages(prefix: string, delimiter: string | undefined): AsyncIterable<ListingPage<T>>;
  keyOf(object: T): string;
  /** The object as a file of the listing below `prefix`. */
  info(prefix: string, object: T): FileInfo;
}

/** The files directly below `prefix` (a key ending in `/`, or "" for the bucket). */
export async function listFilesOf<T>(listing: PagedListing<T>, prefix: string): Promise<FileInfo[]> {
  const files: FileInfo[] = [];
  for await (const page of listing.pages(prefix, "/")) {
    for (const o of page.objects) if (listing.keyOf(o) !== prefix) files.push(listing.info(prefix, o));
  }
  return files;
}

/** The names of the folders directly below `prefix`, in the order the store lists them. */
export async function listFoldersOf<T>(listing: PagedListing<T>, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of listing.pages(prefix, "/")) {
    for (const p of page.prefixes) names.push(p.slice(prefix.length, -1));
  }
  return names.filter((n) => n !== "");
}

/** Every file below `prefix`; folder placeholder objects (keys ending in `/`) are not files. */
export async function listTreeOf<T>(listing: PagedListing<T>, prefix: string): Promise<FileInfo[]> {
  const files: FileInfo[] = [];
  for await (const page of listing.pages(prefix, undefined)) {
    for (const o of page.objects) {
      const key = listing.keyOf(o);
      if (key !== prefix && !key.endsWith("/")) files.push(listing.info(prefix, o));
    }
  }
  return files;
}
