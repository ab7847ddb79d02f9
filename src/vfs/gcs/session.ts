/** What a GCS store knows beyond its objects: the SDK, the endpoint, the project and a client per endpoint. */
import type * as GCS from "@google-cloud/storage";
import { InvalidPathError } from "../errors";
import { cacheSlot, type VfsContext } from "../vfs-context";

/** Google Cloud Storage's own JSON API endpoint. */
const GOOGLE_STORAGE = "https://storage.googleapis.com";

export interface GcsOptions {
  /** An emulator or private endpoint, e.g. `http://127.0.0.1:4443` (settings.ts: `STORAGE_EMULATOR_HOST`). */
  endpoint?: string;
  /** The project (settings.ts: `GOOGLE_CLOUD_PROJECT`); default the credentials' project. */
  projectId?: string;
  /** A Cloud KMS key name for customer-managed encryption of new objects. */
  kmsKeyName?: string;
}

export interface GcsSessionConfig {
  options: GcsOptions;
  timeoutMs: number;
  context: VfsContext;
}

type GcsModule = typeof import("@google-cloud/storage");
let sdk: GcsModule | undefined;
function loadSdk(): GcsModule {
  sdk ??= require("@google-cloud/storage") as GcsModule;
  return sdk;
}

const CLIENTS = cacheSlot<GCS.Storage>("GCS clients by endpoint and project");

/** One GCS bucket, as seen with one set of options. */
export class GcsSession {
  readonly endpoint: string | undefined;
  readonly options: GcsOptions;
  private readonly timeoutMs: number;
  private readonly context: VfsContext;

  constructor(readonly bucket: string, config: GcsSessionConfig) {
    this.options = config.options;
    this.timeoutMs = config.timeoutMs;
    this.context = config.context;
    // STORAGE_EMULATOR_HOST is taken with or without the /storage/v1 suffix (the Go SDK's form).
    const raw = config.options.endpoint;
    if (raw !== undefined) {
      const withScheme = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
      if (!/^https?:\/\/[^/]+/.test(withScheme)) throw new InvalidPathError(`gs://${bucket}: endpoint ${JSON.stringify(raw)} is not an http(s) URL`);
      this.endpoint = withScheme.replace(/\/+$/, "").replace(/\/storage\/v1$/, "");
    }
  }

  /** The shared client for this endpoint and project. */
  storage(): GCS.Storage {
    const projectId = this.options.projectId;
    const cacheKey = JSON.stringify([this.endpoint, projectId, this.timeoutMs]);
    return this.context.memo(CLIENTS, cacheKey, () => {
      const { Storage } = loadSdk();
      const api = this.endpoint ?? GOOGLE_STORAGE;
      const client = new Storage({
        apiEndpoint: api,
        ...(this.endpoint !== undefined ? { projectId: projectId ?? "kstate" } : {}),
        ...(projectId !== undefined ? { projectId } : {}),
        timeout: this.timeoutMs,
        retryOptions: { autoRetry: false, maxRetries: 0 }, // ObjectPath retries, and can tell a lost success from a conflict
      });
      // The SDK reads STORAGE_EMULATOR_HOST itself and takes it verbatim as its JSON API base; the
      // endpoint is the settings' alone (settings.ts reads that variable where a caller asks it to).
      Object.assign(client as unknown as { baseUrl: string; apiEndpoint: string; customEndpoint: boolean }, {
        baseUrl: `${api}/storage/v1`, apiEndpoint: api, customEndpoint: this.endpoint !== undefined,
      });
      return client;
    });
  }
}
