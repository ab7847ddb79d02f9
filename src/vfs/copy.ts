import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { ObjectPath } from "./object-path";
import { canServerCopy, type FileInfo, type VfsPath, type WriteResult } from "./path";
import { schemeOfUrl } from "./schemes";

export interface CopyResult extends WriteResult {
  bytes: number;
  /** True when the server copied the object without the bytes passing through this process. */
  serverSide: boolean;
  /** MD5 of the bytes, when they passed through this process. */
  md5?: string;
}

/**
 * Copies one file: by the server when both ends are on one endpoint that can, else streamed
 * (memory does not grow with the file's size). The destination is written atomically. With
 * `sourceRevision`, a server-side copy takes only that revision of the source.
 */
export async function copyFile(source: VfsPath, destination: VfsPath, size?: number, sourceRevision?: string): Promise<CopyResult> {
  if (canServerCopy(destination)) {
    const bytes = size ?? (await source.stat()).size;
    const done = await destination.serverCopyFrom(source, bytes, sourceRevision);
    if (done) return { ...done, bytes, serverSide: true };
  }
  // A file small enough to be written in one request is read in one piece too: fewer buffers
  // and stream objects per file on a many-file migration.
  if (size !== undefined && destination instanceof ObjectPath && size <= destination.backend.singleWriteLimit) {
    const { data } = await source.read();
    const written = await destination.write(data);
    return { ...written, bytes: data.length, serverSide: false, md5: createHash("md5").update(data).digest("hex") };
  }
  const { stream } = await source.readStream();
  const hash = createHash("md5");
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  stream.on("error", (e) => counted.destroy(e));
  const written = await destination.writeStream(stream.pipe(counted));
  return { ...written, bytes, serverSide: false, md5: hash.digest("hex") };
}

/**
 * True when two listed files are known to hold the same bytes without an MD5 of either: both ends
 * of one scheme whose equal revisions of that form mean equal bytes (schemes.ts; S3's multipart
 * ETags, the MD5 of the same parts' MD5s).
 */
export function sameStoredBytes(source: VfsPath, a: FileInfo, destination: VfsPath, b: FileInfo): boolean {
  const scheme = schemeOfUrl(source.url);
  return scheme !== undefined && scheme === schemeOfUrl(destination.url) && a.revision !== undefined
    && a.revision === b.revision && scheme.sameBytes(a.revision);
}

/** MD5 of a file's bytes, read as a stream. */
export async function md5Of(path: VfsPath): Promise<string> {
  const { stream } = await path.readStream();
  const hash = createHash("md5");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
