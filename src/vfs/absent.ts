/**
 * Reading a file that may not be there: absent is an answer (undefined), not an error. Every
 * other failure (permission, backend, a damaged envelope) is thrown as it was.
 */
import { NotFoundError } from "./errors";
import type { FileInfo, ReadResult, Revision, VfsPath } from "./path";

/** The file's bytes and revision, or undefined when it is absent. */
export async function readIfPresent(path: VfsPath): Promise<ReadResult | undefined> {
  try {
    return await path.read();
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
}

/** The file's size and revision, or undefined when it is absent. */
export async function statIfPresent(path: VfsPath): Promise<(FileInfo & { revision: Revision }) | undefined> {
  try {
    return await path.stat();
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
}
