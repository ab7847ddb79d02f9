/** What an S3 ETag says about an object's bytes. */

/** An S3 multipart ETag: the MD5 of the parts' MD5s and the part count. Equal ones mean equal bytes. */
export const MULTIPART_ETAG = /^"?[0-9a-f]{32}-(\d+)"?$/;

/** The content's MD5, which an ETag is only for single-part uploads without KMS encryption. */
export function md5OfEtag(etag: string | undefined, kmsEncrypted: boolean): string | undefined {
  if (kmsEncrypted) return undefined;
  const bare = etag?.replace(/"/g, "").toLowerCase();
  return bare && /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}
