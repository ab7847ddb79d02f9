/**
 * StateStore through the real Pulumi engine, step by step, on file://, MinIO and fake-gcs-server.
 * Bucket settings are checked by asking the servers directly, not through kstate.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  GetBucketEncryptionCommand, GetBucketVersioningCommand, HeadBucketCommand, PutBucketVersioningCommand, S3Client,
} from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { StateStore, type StateStoreArgs } from "../../src";
import { openPath } from "../../src/vfs";
import { gcsOptions, openOptions, s3Options, uniqueName } from "../support/env";
import { inlineStack, STATE_STORE_TYPE, stepsFor } from "../support/pulumi";

interface ServerView {
  exists(): Promise<boolean>;
  versioning(): Promise<boolean>;
  encryption(): Promise<string>;
  setVersioningBehindPulumi(on: boolean): Promise<void>;
}

function s3View(bucket: string): ServerView {
  const o = s3Options();
  const client = new S3Client({ endpoint: o.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! } });
  return {
    exists: () => client.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true, () => false),
    versioning: async () => (await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status === "Enabled",
    encryption: async () => {
      const out = await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      return out.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? "none";
    },
    setVersioningBehindPulumi: async (on) => {
      await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: on ? "Enabled" : "Suspended" } }));
    },
  };
}

function gcsView(bucket: string): ServerView {
  const storage = new Storage({ apiEndpoint: gcsOptions().endpoint!, projectId: "kstate-test" });
  const b = storage.bucket(bucket);
  return {
    exists: async () => (await b.exists())[0],
    versioning: async () => (await b.getMetadata())[0].versioning?.enabled === true,
    encryption: async () => ((await b.getMetadata())[0].encryption?.defaultKmsKeyName ? "cloud-kms" : "google-managed"),
    setVersioningBehindPulumi: async (on) => {
      await b.setMetadata({ versioning: { enabled: on } });
    },
  };
}

function folderView(dir: string): ServerView {
  return {
    exists: async () => fs.existsSync(dir) && (fs.statSync(dir).mode & 0o777) === 0o700,
    versioning: async () => false,
    encryption: async () => "none",
    setVersioningBehindPulumi: async () => {
      throw new Error("a folder has no versioning");
    },
  };
}

const backends = [
  { name: "s3 (MinIO)", make: () => { const b = uniqueName(); return { url: `s3://${b}`, view: () => s3View(b), encryption: "AES256" }; } },
  { name: "gcs (fake-gcs-server)", make: () => { const b = uniqueName(); return { url: `gs://${b}`, view: () => gcsView(b), encryption: "google-managed" }; } },
  { name: "file://", make: () => { const d = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kstate-store-")), "store"); return { url: `file://${d}`, view: () => folderView(d), encryption: "none" }; } },
];

async function run(stack: Stack, op: "preview" | "up" | "refresh" | "destroy"): Promise<{ steps: string[]; summary: Record<string, number> }> {
  const events: EngineEvent[] = [];
  const onEvent = (e: EngineEvent) => events.push(e);
  let summary: Record<string, number> = {};
  if (op === "preview") summary = (await stack.preview({ onEvent })).changeSummary as Record<string, number>;
  if (op === "up") summary = (await stack.up({ onEvent })).summary.resourceChanges as Record<string, number>;
  if (op === "refresh") summary = (await stack.refresh({ onEvent })).summary.resourceChanges as Record<string, number>;
  if (op === "destroy") summary = (await stack.destroy({ onEvent })).summary.resourceChanges as Record<string, number>;
  return { steps: stepsFor(events, STATE_STORE_TYPE), summary };
}

for (const backend of backends) {
  describe(`StateStore through the Pulumi engine: ${backend.name}`, function () {
    this.timeout(180_000);
    const { url, view: makeView, encryption } = backend.make();
    let view: ServerView;
    const versioned = !url.startsWith("file://");
    const args: StateStoreArgs = { url };
    let stack: Stack;
    let outputs: Record<string, unknown> = {};

    before(async function () {
      view = makeView();
      stack = await inlineStack("kstate-test", uniqueName("store"), async () => {
        const store = new StateStore("state", { ...args });
        return { url: store.url, versioning: store.versioning, encryption: store.encryption, adopted: store.adopted };
      });
    });

    after(async function () {
      if (await view.exists()) {
        args.forceDestroy = true;
        await stack.up().catch(() => undefined);
        await stack.destroy().catch(() => undefined);
      }
    });

    it("step 1: preview shows one create and writes nothing", async function () {
      const { steps } = await run(stack, "preview");
      assert.deepEqual(steps, ["create"]);
      assert.equal(await view.exists(), false);
    });

    it("step 2: up creates the store with versioning and encryption on", async function () {
      const { steps } = await run(stack, "up");
      assert.deepEqual(steps, ["create"]);
      assert.equal(await view.exists(), true);
      assert.equal(await view.versioning(), versioned);
      assert.equal(await view.encryption(), encryption);
      outputs = Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));
      assert.deepEqual(outputs, { url, versioning: versioned, encryption, adopted: false });
    });

    it("step 3: a second up changes nothing", async function () {
      const { steps, summary } = await run(stack, "up");
      assert.deepEqual(steps, ["same"]);
      assert.deepEqual(Object.keys(summary), ["same"]);
    });

    it("step 3b: another stack's new StateStore on it fails preview as up would, naming adoptExisting; with it, up adopts and destroy leaves the store", async function () {
      let adopt = false;
      const other = await inlineStack("kstate-test", uniqueName("store"), async () => {
        const store = new StateStore("state", { url, ...(adopt ? { adoptExisting: true } : {}) });
        return { adopted: store.adopted };
      });
      await assert.rejects(other.preview(), (e: Error) => /property adoptExisting .*already exists\. Set adoptExisting: true to manage it with this StateStore; its objects are kept\./.test(e.message));
      adopt = true;
      assert.equal((await other.up()).outputs.adopted?.value, true);
      await other.destroy();
      assert.equal(await view.exists(), true);
    });

    if (versioned) {
      it("step 4: turning versioning off is an in-place update", async function () {
        args.versioning = false;
        const { steps } = await run(stack, "up");
        assert.deepEqual(steps, ["update"]);
        assert.equal(await view.versioning(), false);
        args.versioning = true;
        assert.deepEqual((await run(stack, "up")).steps, ["update"]);
        assert.equal(await view.versioning(), true);
      });

      it("step 5: refresh after versioning is turned off behind Pulumi's back shows the drift, and up repairs it", async function () {
        await view.setVersioningBehindPulumi(false);
        const { steps, summary } = await run(stack, "refresh");
        assert.deepEqual(steps, ["refresh"]);
        assert.equal(summary.update, 1, `refresh reports the store as changed: ${JSON.stringify(summary)}`);
        const state = await stack.exportStack();
        const resource = (state.deployment.resources as { type: string; outputs: Record<string, unknown> }[]).find((r) => r.type === STATE_STORE_TYPE);
        assert.equal(resource?.outputs.versioning, false, "the state now records versioning off");
        assert.deepEqual((await run(stack, "up")).steps, ["update"]);
        assert.equal(await view.versioning(), true);
      });
    } else {
      it("step 4: versioning on a file:// store fails preview, naming the property", async function () {
        args.versioning = true;
        await assert.rejects(stack.preview(), (e: unknown) => /property versioning .*file:\/\/ stores keep no old versions/.test(String(e)));
        delete args.versioning;
      });
    }

    it("step 6: destroy of a store that holds state fails, naming forceDestroy", async function () {
      await openPath(`${url}/dev.k8s.example.com/config`, openOptions()).write("apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\n");
      await assert.rejects(stack.destroy(), (e: unknown) => /forceDestroy/.test(String(e)) && String(e).includes(url));
      assert.equal(await view.exists(), true);
      assert.ok((await openPath(`${url}/dev.k8s.example.com/config`, openOptions()).read()).data.length > 0, "the state is still there");
    });

    it("step 7: with forceDestroy, destroy removes the store and everything in it", async function () {
      args.forceDestroy = true;
      assert.deepEqual((await run(stack, "up")).steps, ["update"]);
      const { summary } = await run(stack, "destroy");
      assert.equal(summary.delete, 2, "the store and the stack");
      assert.equal(await view.exists(), false);
    });
  });
}
