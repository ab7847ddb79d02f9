/**
 * A small signed-request path to S3 for everything a command does to objects: reads, heads,
 * listings, single-request writes and deletes (conditional, with encryption headers), server-side
 * copies, the bucket's default-encryption lookup and its region (region.ts). The AWS SDK spends
 * about a millisecond of CPU on each request (middleware, schemas, endpoint rules) and far more
 * on loading; a command that reads and writes a few files should pay for neither. Here a request is one SigV4
 * signature (sha256.ts; the signing key is cached per day) and one keep-alive HTTP call; node:crypto
 * loads only to hash a body. Errors carry the
 * shape of the SDK's (`name` = the S3 error code, `$metadata.httpStatusCode`), so the backend
 * classifies both alike. Multipart uploads, version listings, bucket administration and the
 * credentials the SDK's chain finds (profiles, SSO, roles) stay on the SDK, loaded only then.
 */
import { createHash } from "node:crypto";
import type * as http from "node:http";
import type { Readable } from "node:stream";
import { cacheSlot, type VfsContext } from "../vfs-context";
import { hmacSha256 as hmac, sha256 } from "./sha256";

export interface WireCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface WireRequest {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** The object key, unencoded; omit for a bucket-level request. */
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
  /** A look-ahead no one may wait for: its connection does not keep the process alive. */
  detached?: boolean;
}

export interface WireResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface WireStreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  stream: Readable;
}

export interface WireConfig {
  /** `http(s)://host[:port]` of an S3-compatible server; absent for AWS S3 itself. */
  endpoint: string | undefined;
  region: string;
  bucket: string;
  pathStyle: boolean;
  credentials: () => Promise<WireCredentials>;
  timeoutMs: number;
  /** Holds the signing keys. */
  context: VfsContext;
}

/** The SHA-256 of no bytes, the payload hash of every request without a body. */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const AGENTS = cacheSlot<http.Agent>("keep-alive agents of the wire path, by protocol");

/** node:http or node:https, loaded when first used: TLS alone is a few milliseconds of start-up that a plain-HTTP endpoint never needs. */
function httpModule(protocol: "http:" | "https:"): typeof http {
  return protocol === "http:" ? require("node:http") as typeof http : require("node:https") as typeof http;
}
const SIGNING_KEYS = cacheSlot<Buffer>("SigV4 signing keys by secret, day and region");

/** RFC 3986 encoding, as SigV4 wants it (`encodeURIComponent` leaves `!'()*` alone). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function signingKey(signingKeys: Map<string, Buffer>, secret: string, day: string, region: string): Buffer {
  const id = `${secret}\0${day}\0${region}`;
  let key = signingKeys.get(id);
  if (!key) {
    if (signingKeys.size > 32) signingKeys.clear();
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), "s3"), "aws4_request");
    signingKeys.set(id, key);
  }
  return key;
}

/** An error shaped like the AWS SDK's, so one classifier serves both paths. */
export class S3WireError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $response: { headers: http.IncomingHttpHeaders };
  constructor(name: string, message: string, status: number, headers: http.IncomingHttpHeaders) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    this.$response = { headers };
  }
}

/** The text of one XML element (first match), entities decoded. */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? decodeXml(m[1]!) : undefined;
}

export function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x?[0-9a-fA-F]+);/g, (whole, e: string) => {
    switch (e) {
      case "lt": return "<";
      case "gt": return ">";
      case "amp": return "&";
      case "quot": return "\"";
      case "apos": return "'";
      default: return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

/** The code of an error answer whose body is not S3's (a web server's page at a wrong endpoint). */
export const NOT_S3_ANSWER = "NotAnS3Answer";

function errorFrom(status: number, headers: http.IncomingHttpHeaders, body: Buffer): S3WireError {
  const xml = body.toString("utf8");
  // S3 (and every S3-compatible server) says what went wrong in an <Error> document; a body that
  // is something else is no S3 answer, and its 404 must not pass for a missing file.
  if (xml.trim() !== "" && !/<Error[\s>]/.test(xml)) {
    return new S3WireError(NOT_S3_ANSWER, `the answer is not S3's (it begins ${beginning(xml)}): is the endpoint an S3 server?`, status, headers);
  }
  // S3 redirects a request only to a bucket's region, and says so (an <Error> body, or the
  // x-amz-bucket-region header on a HEAD); a bare redirect is a web server's.
  if (status >= 300 && status < 400 && xml.trim() === "" && headers["x-amz-bucket-region"] === undefined) {
    const to = typeof headers.location === "string" ? ` to ${JSON.stringify(headers.location)}` : "";
    return new S3WireError(NOT_S3_ANSWER, `the answer is a bare redirect${to}, not S3's: is the endpoint an S3 server?`, status, headers);
  }
  const code = xmlText(xml, "Code") ?? (status === 404 ? "NotFound" : status === 412 ? "PreconditionFailed" : status === 304 ? "NotModified" : `Http${status}`);
  return new S3WireError(code, xmlText(xml, "Message") ?? code, status, headers);
}

export class S3Wire {
  private readonly protocol: "http:" | "https:";
  /** The Host header (name and port), and the name and port to connect to. */
  private readonly host: string;
  private readonly hostname: string;
  private readonly port: string;
  private readonly basePath: string;

  constructor(private readonly config: WireConfig) {
    const url = new URL(config.endpoint ?? `https://s3.${config.region}.amazonaws.com`);
    this.protocol = url.protocol === "http:" ? "http:" : "https:";
    // Virtual-hosted addressing for AWS S3 where the bucket name allows it, path-style otherwise.
    const virtual = !config.pathStyle && config.endpoint === undefined && !config.bucket.includes(".");
    this.host = virtual ? `${config.bucket}.${url.host}` : url.host;
    this.hostname = virtual ? `${config.bucket}.${url.hostname}` : url.hostname;
    this.port = url.port;
    this.basePath = virtual ? "" : `/${uriEncode(config.bucket)}`;
  }

  /** Sends a request and reads the whole answer; a non-2xx answer becomes an `S3WireError`. */
  async send(req: WireRequest): Promise<WireResponse> {
    const res = await this.open(req);
    const body = await collect(res.stream);
    if (res.status >= 300) throw errorFrom(res.status, res.headers, body);
    return { status: res.status, headers: res.headers, body };
  }

  /** Sends a request and hands back the answer's body as a stream once the status is 2xx. */
  async stream(req: WireRequest): Promise<WireStreamResponse> {
    const res = await this.open(req);
    if (res.status >= 300) throw errorFrom(res.status, res.headers, await collect(res.stream));
    return res;
  }

  /**
   * The keep-alive connections of this context, shared by every bucket it reaches over the wire
   * path: as many at once as a migration's wave of server copies (ops/copy-pace.ts), so a wave
   * leaves together instead of queueing here.
   */
  private agent(): http.Agent {
    return this.config.context.memo(AGENTS, this.protocol, () => {
      const options = { keepAlive: true, maxSockets: 256 };
      return new (httpModule(this.protocol).Agent)(options);
    });
  }

  private async open(req: WireRequest): Promise<WireStreamResponse> {
    const creds = await this.config.credentials();
    const now = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
    const day = now.slice(0, 8);
    const body = req.body ?? Buffer.alloc(0);
    const payloadHash = body.length === 0 ? EMPTY_SHA256 : createHash("sha256").update(body).digest("hex");
    const path = req.key === undefined ? (this.basePath || "/") : `${this.basePath}/${req.key.split("/").map(uriEncode).join("/")}`;
    const query = Object.keys(req.query ?? {}).sort().map((k) => `${uriEncode(k)}=${uriEncode(req.query![k]!)}`).join("&");
    const headers: Record<string, string> = {
      host: this.host,
      "x-amz-content-sha256": payloadHash,
      "x-amz-date": now,
      ...(creds.sessionToken ? { "x-amz-security-token": creds.sessionToken } : {}),
    };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    if (body.length > 0 || req.method === "PUT" || req.method === "POST") headers["content-length"] = String(body.length);
    const names = Object.keys(headers).sort();
    const signed = names.join(";");
    const canonical = [req.method, path, query, names.map((n) => `${n}:${headers[n]!.trim()}\n`).join(""), signed, payloadHash].join("\n");
    const scope = `${day}/${this.config.region}/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${now}\n${scope}\n${sha256(canonical).toString("hex")}`;
    const signature = hmac(signingKey(this.config.context.cache(SIGNING_KEYS), creds.secretAccessKey, day, this.config.region), toSign).toString("hex");
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;

    const lib = httpModule(this.protocol);
    return new Promise<WireStreamResponse>((resolve, reject) => {
      const request = lib.request({
        protocol: this.protocol, hostname: this.hostname, ...(this.port ? { port: this.port } : {}),
        method: req.method, path: query ? `${path}?${query}` : path, headers, agent: this.agent(),
        timeout: this.config.timeoutMs,
      }, (res) => {
        res.setTimeout(this.config.timeoutMs, () => res.destroy(timeoutError(this.config.timeoutMs)));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res });
      });
      if (req.detached) request.on("socket", (socket) => socket.unref());
      request.on("timeout", () => request.destroy(timeoutError(this.config.timeoutMs)));
      request.on("error", reject);
      request.end(body.length > 0 ? body : undefined);
    });
  }
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms (timed out)`), { code: "ETIMEDOUT", name: "TimeoutError" });
}

/**
 * A body's bytes, taken from the stream's events (its async iterator runs more of Node.js's
 * stream code, cold at a command's first answer). A stream closed before its end fails as a
 * premature close, which retry.ts retries.
 */
function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("error", reject);
    stream.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    stream.once("close", () => reject(Object.assign(new Error("Premature close: the answer ended before its end"), { code: "ERR_STREAM_PREMATURE_CLOSE" })));
  });
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
}

export interface ListPage {
  objects: ListedObject[];
  prefixes: string[];
  truncated: boolean;
  nextToken: string | undefined;
}

/**
 * A ListObjectsV2 answer, read with patterns: its elements are flat and few. Anything else
 * answered with a 200 (a proxy's or a web server's page at a wrong endpoint) fails here: read as
 * a page with no names, it would pass for an empty store.
 */
export function parseListPage(xml: string): ListPage {
  requireRoot(xml, "ListBucketResult");
  const contents: ListedObject[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const body = m[1]!;
    const key = xmlText(body, "Key");
    if (key === undefined) continue;
    contents.push({ key, size: Number(xmlText(body, "Size") ?? 0), etag: xmlText(body, "ETag") ?? "" });
  }
  const prefixes: string[] = [];
  for (const m of xml.matchAll(/<CommonPrefixes>([\s\S]*?)<\/CommonPrefixes>/g)) {
    const p = xmlText(m[1]!, "Prefix");
    if (p) prefixes.push(p);
  }
  return { objects: contents, prefixes, truncated: xmlText(xml, "IsTruncated") === "true", nextToken: xmlText(xml, "NextContinuationToken") };
}

/** Fails unless `xml` is the S3 answer whose root element is `root`. */
function requireRoot(xml: string, root: string): void {
  if (new RegExp(`<${root}[\\s>]`).test(xml)) return;
  throw new Error(`the answer to a listing is not S3's (no ${root}; it begins ${beginning(xml)}): is the endpoint an S3 server?`);
}

/** How an answer begins, quoted, for an error that says it is not S3's ("empty" for no body). */
function beginning(xml: string): string {
  const start = xml.trim().slice(0, 60).replace(/\s+/g, " ");
  return start ? JSON.stringify(start) : "empty";
}

export interface ListedVersion {
  key: string;
  versionId: string;
  modified: Date;
  size: number;
  isLatest: boolean;
  deleted: boolean;
}

export interface VersionsPage {
  versions: ListedVersion[];
  truncated: boolean;
  nextKeyMarker: string | undefined;
  nextVersionIdMarker: string | undefined;
}

/** A ListObjectVersions answer: its versions and delete markers, in the order listed. */
export function parseVersionsPage(xml: string): VersionsPage {
  requireRoot(xml, "ListVersionsResult");
  const versions: ListedVersion[] = [];
  for (const m of xml.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)) {
    const body = m[2]!;
    const key = xmlText(body, "Key");
    const versionId = xmlText(body, "VersionId");
    if (key === undefined || !versionId) continue;
    const modified = xmlText(body, "LastModified");
    versions.push({
      key, versionId, modified: modified ? new Date(modified) : new Date(0), size: m[1] === "Version" ? Number(xmlText(body, "Size") ?? 0) : 0,
      isLatest: xmlText(body, "IsLatest") === "true", deleted: m[1] === "DeleteMarker",
    });
  }
  const truncated = xmlText(xml, "IsTruncated") === "true";
  return { versions, truncated, nextKeyMarker: truncated ? xmlText(xml, "NextKeyMarker") : undefined, nextVersionIdMarker: truncated ? xmlText(xml, "NextVersionIdMarker") : undefined };
}

/** The ETag of a copy: CopyObject and UploadPartCopy answer 200 with XML that may hold an error. */
export function copyResultEtag(body: Buffer, headers: Record<string, string | string[] | undefined>): string {
  const xml = body.toString("utf8");
  if (xml.includes("<Error>")) {
    const code = xmlText(xml, "Code") ?? "InternalError";
    throw Object.assign(new Error(xmlText(xml, "Message") ?? code), { name: code, $metadata: { httpStatusCode: 500 } });
  }
  return xmlText(xml, "ETag") ?? headerOf(headers, "etag") ?? "";
}

export function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
