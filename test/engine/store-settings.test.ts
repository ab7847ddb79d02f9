/**
 * ClusterConfig and StateStoreMigration reach their stores through their own inputs (endpoint,
 * region, project, static keys), as a StateStore does, with none of the stores' variables in the
 * environment of the engine or the provider: the real Pulumi CLI, step by step.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalWorkspaceOptions } from "@pulumi/pulumi/automation";
import { ClusterConfig, StateStoreMigration } from "../../src";
import { NotFoundError, openPath } from "../../src/vfs";
import { gcsOptions, makeGcsBucket, makeS3Bucket, openOptions, s3Options, uniqueName } from "../support/env";
import { engineEnv, inlineStack, newStateDir } from "../support/pulumi";
import { MINIO_PASSWORD, MINIO_USER } from "../support/servers";

const CLUSTER = "settings.k8s.example.com";

/** The variables kstate would otherwise reach the test servers with: none may be set. */
const STORE_VARIABLES = [
  "S3_ENDPOINT", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
  "STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT",
];

/** The engine's environment without the stores' variables (the test process's own has none: checked), on a backend in `stateDir`. */
function bareEngine(stateDir = newStateDir()): LocalWorkspaceOptions {
  const env = engineEnv(stateDir);
  for (const k of STORE_VARIABLES) delete env[k];
  return { envVars: env };
}

/** Every checkpoint and backup the local backend in `stateDir` wrote, as stored on disk. */
function storedState(stateDir: string): string {
  const files = fs.readdirSync(path.join(stateDir, ".pulumi"), { recursive: true, encoding: "utf8" }).map((f) => path.join(stateDir, ".pulumi", f));
  const texts = files.filter((f) => fs.statSync(f).isFile() && /\.json(\.bak)?$/.test(f)).map((f) => fs.readFileSync(f, "utf8"));
  assert.ok(texts.some((t) => t.includes('"ciphertext"')), `the backend in ${stateDir} holds stack state`);
  return texts.join("\n");
}

async function exists(url: string): Promise<boolean> {
  return openPath(url, openOptions()).stat().then(() => true, (e: unknown) => {
    if (NotFoundError.isInstance(e)) return false;
    throw e;
  });
}

describe("store settings as resource inputs, with nothing in the environment", function () {
  this.timeout(300_000);

  before(function () {
    const set = STORE_VARIABLES.filter((k) => process.env[k] !== undefined);
    assert.deepEqual(set, [], "the test process must not carry the stores' variables, or the providers could reach the stores through them");
  });

  it("a ClusterConfig writes to MinIO, and a StateStoreMigration moves it to fake-gcs-server, each through its inputs; refresh and destroy use the stored settings; the secret key stays secret", async function () {
    const source = `s3://${await makeS3Bucket()}`;
    const destination = `gs://${await makeGcsBucket()}`;
    const minio = { endpoint: s3Options().endpoint!, region: "us-east-1", accessKeyId: MINIO_USER, secretAccessKey: MINIO_PASSWORD };
    const gcs = { endpoint: gcsOptions().endpoint!, project: "kstate-test" };

    // Step 1: the cluster, written through the ClusterConfig's own inputs.
    const clusterDir = newStateDir();
    const clusterStack = await inlineStack("kstate-settings", uniqueName("cluster"), async () => {
      const cluster = new ClusterConfig("c", { store: source, name: CLUSTER, ...minio, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" } });
      return { configBase: cluster.configBase, secretAccessKey: cluster.secretAccessKey, endpoint: cluster.endpoint };
    }, bareEngine(clusterDir));
    const up = await clusterStack.up();
    assert.equal(up.summary.resourceChanges?.create, 2, up.stdout);
    assert.equal(up.outputs.configBase?.value, `${source}/${CLUSTER}`);
    assert.equal(up.outputs.endpoint?.value, minio.endpoint);
    assert.equal(up.outputs.secretAccessKey?.secret, true, "the secret access key output is a secret");
    assert.ok(await exists(`${source}/${CLUSTER}/config`), "config written to MinIO");
    const clusterState = storedState(clusterDir);
    assert.ok(clusterState.includes(MINIO_USER), "the access key id is kept in state");
    assert.ok(!clusterState.includes(MINIO_PASSWORD), "the secret access key is in state only encrypted");

    // Step 2: the move, preview (which reads both ends) then up.
    const moveDir = newStateDir();
    const moveStack = await inlineStack("kstate-settings", uniqueName("move"), async () => {
      const move = new StateStoreMigration("m", { clusterName: CLUSTER, source, sourceSettings: minio, destination, destinationSettings: gcs });
      return { filesCopied: move.filesCopied, verified: move.verified, sourceSettings: move.sourceSettings };
    }, bareEngine(moveDir));
    const preview = await moveStack.preview({ diff: true });
    assert.match(preview.stdout, /copy 3 of 3 files/);
    const moved = await moveStack.up();
    assert.equal(moved.outputs.filesCopied?.value, 3);
    assert.equal(moved.outputs.verified?.value, true);
    assert.ok(await exists(`${destination}/${CLUSTER}/config`), "config copied to fake-gcs-server");
    const moveState = storedState(moveDir);
    assert.ok(moveState.includes(minio.endpoint) && moveState.includes(gcs.endpoint), "both ends' settings are kept in state");
    assert.ok(!moveState.includes(MINIO_PASSWORD), "the source's secret access key is in state only encrypted");
    const again = await moveStack.up();
    assert.equal(again.summary.resourceChanges?.same, 2, "a second up changes nothing");

    // Step 3: refresh reads both stores with the settings kept in state; nothing drifted.
    for (const stack of [clusterStack, moveStack]) {
      const refreshed = await stack.refresh();
      assert.equal(refreshed.summary.resourceChanges?.update ?? 0, 0, refreshed.stdout);
    }

    // Step 4: destroy removes the cluster it created, reaching MinIO with the stored settings.
    await moveStack.destroy();
    await clusterStack.destroy();
    assert.equal(await exists(`${source}/${CLUSTER}/config`), false, "the ClusterConfig's destroy reached MinIO");
  });

  it("without the inputs, the same providers cannot reach MinIO: the settings came from the inputs, not from anywhere else", async function () {
    const source = `s3://${await makeS3Bucket()}`;
    const stack = await inlineStack("kstate-settings", uniqueName("bare"), async () => {
      new ClusterConfig("c", { store: source, name: CLUSTER, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" } });
    }, { envVars: { ...bareEngine().envVars, AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" } });
    await assert.rejects(stack.preview(), /cannot read s3:\/\/\S+: no credentials were found for it/);
    assert.equal(await exists(`${source}/${CLUSTER}/config`), false);
  });
});
