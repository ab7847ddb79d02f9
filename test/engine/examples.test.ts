/**
 * The examples, run as Pulumi projects through the real engine. Each runs in a copy of its
 * folder (inside the repository, so that node_modules resolve), so that the stack files the
 * engine writes never touch the committed ones.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { GetBucketVersioningCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { openPath } from "../../src/vfs";
import { gcsOptions, makeS3Bucket, openOptions, s3Options, uniqueName } from "../support/env";
import { awsClusterName, createAwsCluster, kopsAws, startLocalAws } from "../support/local-aws";
import { toolPath } from "../support/servers";
import { engineEnv, newStateDir, pulumiCommand, steady } from "../support/pulumi";

const REPO = path.resolve(__dirname, "..", "..", "..");
const WORK = path.join(REPO, ".kstate", "test-work");

async function exampleStack(example: string, stackName: string, stateDir: string, config: Record<string, string> = {}, envVars: Record<string, string> = {}): Promise<Stack> {
  const workDir = path.join(WORK, `${example}-${uniqueName("w")}`);
  fs.mkdirSync(workDir, { recursive: true });
  // Only the committed project and stack files: a local run may have left others beside them.
  const tracked = execFileSync("git", ["ls-files", `examples/${example}`], { cwd: REPO, encoding: "utf8" }).split("\n");
  for (const f of tracked) {
    if (/\/Pulumi(\.[^/]+)?\.yaml$/.test(f)) fs.copyFileSync(path.join(REPO, f), path.join(workDir, path.basename(f)));
  }
  const projectName = /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(workDir, "Pulumi.yaml"), "utf8"))![1]!;
  const program = path.join(REPO, "dist", "examples", example, "index.js");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName, program: async () => (require(program) as () => Promise<Record<string, unknown>>)() },
    { workDir, pulumiCommand: await pulumiCommand(), envVars: { ...engineEnv(stateDir), ...envVars } },
  );
  for (const [k, v] of Object.entries(config)) await stack.setConfig(`${projectName}:${k}`, { value: v });
  return steady(stack);
}

function s3Client(): S3Client {
  const o = s3Options();
  return new S3Client({ endpoint: o.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! } });
}

async function s3Versioning(bucket: string): Promise<boolean | undefined> {
  const client = s3Client();
  try {
    if (!(await client.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true, () => false))) return undefined;
    return (await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status === "Enabled";
  } finally {
    client.destroy();
  }
}

describe("examples through the Pulumi engine", function () {
  this.timeout(240_000);
  after(function () {
    fs.rmSync(WORK, { recursive: true, force: true });
  });

  it("local: up creates a folder store with a cluster, a second up changes nothing, destroy removes it", async function () {
    const dir = path.join(newStateDir(), "store");
    const stack = await exampleStack("local", "dev", newStateDir(), { storeUrl: `file://${dir}` });
    const first = await stack.up();
    assert.equal(first.summary.resourceChanges?.create, 3);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(path.join(dir, "dev.k8s.example.com", "instancegroup")).sort(), ["control-plane-us-east-1a", "nodes-us-east-1a", "nodes-us-east-1b"]);
    assert.match(fs.readFileSync(path.join(dir, "dev.k8s.example.com", "config"), "utf8"), /maxPods: 110/);
    const second = await stack.up();
    assert.deepEqual(Object.keys(second.summary.resourceChanges ?? {}), ["same"]);
    await stack.destroy();
    assert.equal(fs.existsSync(dir), false);
  });

  it("s3: creates a versioned, encrypted bucket and gives a write policy", async function () {
    const bucket = uniqueName();
    const stack = await exampleStack("s3", "dev", newStateDir(), { storeUrl: `s3://${bucket}`, forceDestroy: "true" });
    const up = await stack.up();
    assert.equal(await s3Versioning(bucket), true);
    const policy = up.outputs.writePolicy?.value as { Statement: { Resource: string }[] };
    assert.ok(policy.Statement.some((s) => s.Resource === `arn:aws:s3:::${bucket}/*`));
    await stack.destroy();
    assert.equal(await s3Versioning(bucket), undefined);
  });

  it("gcs: creates a versioned bucket and gives role bindings", async function () {
    const bucket = uniqueName();
    const stack = await exampleStack("gcs", "dev", newStateDir(), { storeUrl: `gs://${bucket}`, forceDestroy: "true" });
    const up = await stack.up();
    const storage = new Storage({ apiEndpoint: gcsOptions().endpoint!, projectId: "kstate-test" });
    assert.equal((await storage.bucket(bucket).getMetadata())[0].versioning?.enabled, true);
    assert.deepEqual(up.outputs.writeBindings?.value, [{ bucket, role: "roles/storage.objectAdmin" }]);
    await stack.destroy();
    assert.equal((await storage.bucket(bucket).exists())[0], false);
  });

  it("move: a running cluster's state moves, kops updates it at the new store, and only then the source goes", async function () {
    this.timeout(600_000);
    const aws = await startLocalAws();
    try {
      const [from, to] = [`s3://${await makeS3Bucket()}`, `s3://${await makeS3Bucket()}`];
      const cluster = awsClusterName("ex");
      await createAwsCluster(from, cluster, aws);
      await kopsAws(["update", "cluster", cluster, "--yes", "--state", from], aws.env());
      const config = { cluster, from, to, kops: toolPath("kops") };
      const stack = await exampleStack("move", "dev", newStateDir(), config, aws.env());
      const first = await stack.up();
      assert.equal(first.outputs.configBase?.value, `${to}/${cluster}`);
      assert.equal(first.outputs.kopsVersion?.value, "1.36.2");
      assert.equal(first.outputs.sourceDeleted?.value, false);
      await stack.setConfig("kstate-move:deleteSource", { value: "true" });
      const second = await stack.up();
      assert.equal(second.outputs.sourceDeleted?.value, true);
      assert.deepEqual(await openPath(from, openOptions()).join(cluster).listTree(), []);
      assert.ok(await openPath(to, openOptions()).join(cluster, "cluster-completed.spec").stat());
    } finally {
      await aws.close();
    }
  });

  it("stacks: dev and prod get their own stores and settings; destroying dev leaves prod intact", async function () {
    const stateDir = newStateDir();
    const dev = await exampleStack("stacks", "dev", stateDir);
    const prod = await exampleStack("stacks", "prod", stateDir);
    const devUp = await dev.up();
    const prodUp = await prod.up();
    assert.equal(devUp.outputs.storeUrl?.value, "s3://kstate-stacks-dev");
    assert.equal(prodUp.outputs.storeUrl?.value, "s3://kstate-stacks-prod");
    assert.equal(await s3Versioning("kstate-stacks-dev"), false);
    assert.equal(await s3Versioning("kstate-stacks-prod"), true);
    await openPath("s3://kstate-stacks-prod/prod.k8s.example.com/config", { s3: s3Options() }).write("kind: Cluster\n");
    await openPath("s3://kstate-stacks-dev/dev.k8s.example.com/config", { s3: s3Options() }).write("kind: Cluster\n");

    await dev.destroy(); // dev has forceDestroy: its state goes with it
    assert.equal(await s3Versioning("kstate-stacks-dev"), undefined);
    assert.equal(await s3Versioning("kstate-stacks-prod"), true);
    assert.equal((await openPath("s3://kstate-stacks-prod/prod.k8s.example.com/config", { s3: s3Options() }).read()).data.toString(), "kind: Cluster\n");
    const prodAgain = await prod.preview();
    assert.deepEqual(Object.keys(prodAgain.changeSummary), ["same"], "prod did not notice");

    await assert.rejects(prod.destroy(), /forceDestroy/, "prod refuses to go while it holds state");
    await openPath("s3://kstate-stacks-prod/prod.k8s.example.com/config", { s3: s3Options() }).remove();
    await prod.setConfig("kstate-stacks:forceDestroy", { value: "true" });
    await prod.up();
    await prod.destroy();
  });
});
