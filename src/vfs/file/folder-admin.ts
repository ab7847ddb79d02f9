import * as fs from "node:fs/promises";
import type { BucketAdmin, BucketEncryption, BucketSettings, NewBucket } from "../bucket";
import { AlreadyExistsError, BackendError, describe, InvalidPathError } from "../errors";
import type { FileBackend } from "./backend";

/** A local folder as a "bucket": created 0700, removed on delete; no versions, no server-side encryption. */
export class FolderAdmin implements BucketAdmin {
  readonly url: string;

  constructor(private readonly backend: FileBackend) {
    this.url = `file://${backend.location}`;
  }

  async settings(): Promise<BucketSettings> {
    const st = await fs.stat(this.backend.location).catch((e: unknown) => {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw this.backend.classify("inspect folder", this.url, e);
    });
    // A file where the folder would be: neither there to adopt nor one that can be made.
    if (st && !st.isDirectory()) throw new InvalidPathError(`${this.url} is a file, not a folder: a file:// store is a folder`, { url: this.url });
    return {
      exists: st?.isDirectory() === true,
      versioning: false,
      encryption: { type: "none" },
      publicAccessBlocked: st ? (st.mode & 0o077) === 0 : undefined,
    };
  }

  async create(settings: NewBucket): Promise<void> {
    if (settings.versioning) await this.setVersioning(true);
    if ((await this.settings()).exists) {
      throw new AlreadyExistsError(describe("create folder", this.url, "the folder already exists"), { url: this.url });
    }
    await fs.mkdir(this.backend.location, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
      throw this.backend.classify("create folder", this.url, e);
    });
  }

  async setVersioning(on: boolean): Promise<void> {
    if (on) throw new BackendError(describe("enable versioning on", this.url, "file:// stores keep no old versions; use s3:// or gs:// for history"), { url: this.url });
  }

  async setEncryption(encryption: BucketEncryption): Promise<void> {
    if (encryption.type !== "none") {
      throw new BackendError(describe("set encryption on", this.url, "file:// stores have no server-side encryption"), { url: this.url });
    }
  }

  async isEmpty(): Promise<boolean> {
    return (await this.backend.listTree("", {})).length === 0;
  }

  async delete(options: { force: boolean }): Promise<void> {
    if (!options.force && !(await this.isEmpty())) {
      throw new BackendError(describe("delete folder", this.url, "the folder is not empty"), { url: this.url });
    }
    await fs.rm(this.backend.location, { recursive: true, force: true }).catch((e: unknown) => {
      throw this.backend.classify("delete folder", this.url, e);
    });
  }
}
