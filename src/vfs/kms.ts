/**
 * The AWS KMS key provider for client-side encryption ("awskms"): each file's data key is
 * encrypted by KMS under the configured key, with the file's associated data (provider and path)
 * as the encryption context, so KMS itself refuses to unwrap a key for another file. The SDK is
 * loaded on first use only.
 */
import type * as Kms from "@aws-sdk/client-kms";
import type { KeyProvider } from "./envelope";
import { BackendError, ValidationError } from "./errors";
import { cacheSlot, DEFAULT_VFS_CONTEXT, type VfsContext } from "./vfs-context";

/** Where the KMS keys are. Default: the AWS SDK's own settings (environment, profiles, roles). */
export interface AwsKmsOptions {
  region?: string;
  /** The region where neither `region` nor the key's ARN names one (settings.ts: `AWS_REGION`). */
  defaultRegion?: string;
  /** A KMS-compatible endpoint (a test server, a VPC endpoint; settings.ts: `AWS_ENDPOINT_URL_KMS`); default AWS. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

/** The context KMS binds each wrapped key to (shown as is in CloudTrail). */
const CONTEXT_KEY = "kstate-aad";

/** KMS answers that mean "this key did not wrap that blob", as opposed to "cannot tell now". */
const NOT_THIS_KEY = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);

const CLIENTS = cacheSlot<Promise<Kms.KMSClient>>("KMS clients by region, endpoint and credentials");

function loadSdk(): Promise<typeof Kms> {
  return import("@aws-sdk/client-kms");
}

/** The region a key ARN names (`arn:aws:kms:REGION:…`), if it is one. */
function regionOfKey(keyId: string): string | undefined {
  return /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];
}

function clientFor(keyId: string, o: AwsKmsOptions, context: VfsContext): Promise<Kms.KMSClient> {
  const region = o.region ?? regionOfKey(keyId) ?? o.defaultRegion;
  const endpoint = o.endpoint;
  const credentials = o.accessKeyId && o.secretAccessKey
    ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}) }
    : undefined;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const cacheKey = JSON.stringify([region, endpoint, credentials, timeoutMs]);
  return context.memo(CLIENTS, cacheKey, () => loadSdk().then(({ KMSClient }) => new KMSClient({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: Math.min(timeoutMs, 5_000), requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  })));
}

function describe(e: unknown): string {
  const err = e as { name?: string; message?: string };
  return err.name && err.message && !err.message.startsWith(err.name) ? `${err.name}: ${err.message}` : err.message ?? String(e);
}

/**
 * A key provider over the AWS KMS key `keyId` (key id, ARN or `alias/…`). The wrapped key is the
 * ARN of the key that wrapped it (2-byte length, UTF-8) then KMS's ciphertext blob, so a provider
 * knows without asking KMS whether a file is under its key (during a rotation, say).
 */
export function awsKmsProvider(keyId: string, options: AwsKmsOptions = {}, vfsContext: VfsContext = DEFAULT_VFS_CONTEXT): KeyProvider {
  if (!keyId.trim()) throw new ValidationError("client-side encryption: awsKmsKeyId is empty", { problems: [{ path: "awsKmsKeyId", message: "empty" }] });
  const where = `AWS KMS key ${keyId}`;
  const context = (aad: Buffer) => ({ [CONTEXT_KEY]: aad.toString("base64") });
  const call = async <T>(what: string, f: (sdk: typeof Kms, client: Kms.KMSClient) => Promise<T>): Promise<T> => {
    const [sdk, client] = await Promise.all([loadSdk(), clientFor(keyId, options, vfsContext)]);
    try {
      return await f(sdk, client);
    } catch (e) {
      throw new BackendError(`${where}: cannot ${what} (${describe(e)})`, { cause: e });
    }
  };
  let arn: Promise<string> | undefined;
  const myArn = () => {
    arn ??= call("look up the key", async (sdk, client) => {
      const out = await client.send(new sdk.DescribeKeyCommand({ KeyId: keyId }));
      if (!out.KeyMetadata?.Arn) throw new BackendError("no key ARN in the answer");
      return out.KeyMetadata.Arn;
    });
    arn.catch(() => (arn = undefined)); // asked again next time
    return arn;
  };
  return {
    id: "awskms",
    async wrap(dataKey, aad) {
      const out = await call("encrypt a data key", (sdk, client) => client.send(new sdk.EncryptCommand({ KeyId: keyId, Plaintext: dataKey, EncryptionContext: context(aad) })));
      if (!out.CiphertextBlob || !out.KeyId) throw new BackendError(`${where}: cannot encrypt a data key (no ciphertext or key ARN in the answer)`);
      const name = Buffer.from(out.KeyId, "utf8");
      const length = Buffer.alloc(2);
      length.writeUInt16BE(name.length);
      return Buffer.concat([length, name, Buffer.from(out.CiphertextBlob)]);
    },
    async unwrap(wrapped, aad) {
      if (wrapped.length < 2) return undefined;
      const end = 2 + wrapped.readUInt16BE(0);
      const wrappedBy = wrapped.subarray(2, end).toString("utf8");
      if (wrappedBy !== (await myArn())) return undefined;
      return call("decrypt a data key", async (sdk, client) => {
        try {
          const out = await client.send(new sdk.DecryptCommand({ KeyId: wrappedBy, CiphertextBlob: wrapped.subarray(end), EncryptionContext: context(aad) }));
          return out.Plaintext ? Buffer.from(out.Plaintext) : undefined;
        } catch (e) {
          // The key is right but the blob or its context is not: damaged, or moved from another name.
          if (NOT_THIS_KEY.has((e as Error).name)) return undefined;
          throw e;
        }
      });
    },
  };
}
