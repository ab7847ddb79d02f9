/**
 * The parts of StateStore that meet @pulumi/aws and @pulumi/gcp: an existing bucket resource in
 * place of a URL, and typed IAM policies. Their provider plugins cannot be installed here, so this
 * runs under pulumi.runtime.setMocks, in a mocha run of its own (mocks are process-wide).
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type * as awsTypes from "@pulumi/aws";

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const created: Created[] = [];

pulumi.runtime.setMocks({
  newResource(args) {
    created.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
    if (args.type === "aws:s3/bucket:Bucket" || args.type === "aws:s3/bucketV2:BucketV2") {
      return { id: args.name, state: { ...args.inputs, bucket: args.inputs.bucket ?? `${args.name}-1234`, arn: `arn:aws:s3:::${args.inputs.bucket}` } };
    }
    if (args.type === "gcp:storage/bucket:Bucket") {
      return { id: args.name, state: { ...args.inputs, name: args.inputs.name ?? args.name, url: `gs://${args.inputs.name}` } };
    }
    if (args.type === "pulumi-nodejs:dynamic/kstate:StateStore") {
      // The engine would run the provider; here the state is what it would return.
      const url = String(args.inputs.url);
      const [scheme, bucket] = url.split("://") as [string, string];
      return { id: url, state: { ...args.inputs, scheme, bucket, adopted: true, schemaVersion: 1 } };
    }
    if (args.type === "pulumi-nodejs:dynamic/kstate:ClusterConfig") {
      // Its store settings as outputs are not known here (as in a preview of a ClusterConfig that changes).
      const { endpoint: _e, region: _r, ...known } = args.inputs as Record<string, unknown>;
      return { id: `${args.name}-id`, state: known };
    }
    return { id: `${args.name}-id`, state: args.inputs };
  },
  call: (args) => args.inputs,
}, "kstate-mocks", "test", false);

function value<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply(resolve));
}

describe("StateStore with @pulumi/aws and @pulumi/gcp (mocked engine)", function () {
  this.timeout(60_000);
  // Loaded after setMocks, as a program would be.
  const aws = require("@pulumi/aws") as typeof import("@pulumi/aws");
  const gcp = require("@pulumi/gcp") as typeof import("@pulumi/gcp");
  const { StateStore } = require("../../src") as typeof import("../../src");

  it("takes an aws.s3.Bucket in place of a URL, adopts it, and gives typed IAM policies", async function () {
    const bucket = new aws.s3.Bucket("state-bucket", { bucket: "acme-kops-state" });
    const store = new StateStore("state", { existingBucket: bucket });
    assert.equal(await value(store.url), "s3://acme-kops-state");
    assert.equal(await value(store.adoptExisting), true);
    const write = (await value(store.writePolicy))!;
    const statements = write.Statement as awsTypes.iam.PolicyStatement[];
    assert.ok(statements.some((s) => s.Resource === "arn:aws:s3:::acme-kops-state/*" && (s.Action as string[]).includes("s3:PutObject")));
    const read = (await value(store.readPolicy))!;
    assert.ok(!(read.Statement as awsTypes.iam.PolicyStatement[]).some((s) => (s.Action as string[]).includes("s3:PutObject")), "the read policy cannot write");
    assert.equal(await value(store.readBindings), undefined);

    // The typed document goes straight into an aws.iam.Policy.
    const policy = new aws.iam.Policy("kops-state-writers", { policy: store.writePolicy.apply((p) => p!) });
    await value(policy.id);
    const registered = created.find((c) => c.type === "aws:iam/policy:Policy");
    assert.match(JSON.stringify(registered?.inputs.policy), /arn:aws:s3:::acme-kops-state\/\*/);
  });

  it("takes a gcp.storage.Bucket and gives role bindings for gcp.storage.BucketIAMMember", async function () {
    const bucket = new gcp.storage.Bucket("gcs-state", { name: "acme-kops-state-eu", location: "EU" });
    const store = new StateStore("gcs", { existingBucket: bucket });
    assert.equal(await value(store.url), "gs://acme-kops-state-eu");
    const bindings = (await value(store.writeBindings))!;
    assert.deepEqual(bindings, [{ bucket: "acme-kops-state-eu", role: "roles/storage.objectAdmin" }]);
    const member = new gcp.storage.BucketIAMMember("ci", { ...bindings[0]!, member: "serviceAccount:ci@acme.iam.gserviceaccount.com" });
    await value(member.id);
    assert.equal(await value(store.writePolicy), undefined);
  });

  it("records the serialized provider with each StateStore, small and free of SDK clients", async function () {
    const store = new StateStore("plain", { url: "s3://acme-plain-state" });
    await value(store.url);
    const registered = created.find((c) => c.type === "pulumi-nodejs:dynamic/kstate:StateStore" && c.name === "plain");
    const serialized = String(registered?.inputs.__provider);
    assert.ok(serialized.length > 100 && serialized.length < 4096, `serialized provider is ${serialized.length} bytes`);
    assert.ok(!serialized.includes("S3Client"));
  });

  it("takes an aws.s3.BucketV2, recognised by its type token", async function () {
    const bucket = new aws.s3.BucketV2("state-bucket-v2", { bucket: "acme-kops-state-v2" });
    const store = new StateStore("state-v2", { existingBucket: bucket });
    assert.equal(await value(store.url), "s3://acme-kops-state-v2");
  });

  it("refuses a resource of another type, even one with a bucket output", function () {
    // kstate's ExistingBucket type is a shape (so its types need no @pulumi/aws); the token decides.
    const object = new aws.s3.BucketObjectv2("not-a-bucket", { bucket: "acme-kops-state", key: "k", content: "x" });
    assert.throws(() => new StateStore("object", { existingBucket: object }), /must be an aws\.s3\.Bucket, aws\.s3\.BucketV2 or gcp\.storage\.Bucket/);
  });

  it("refuses both url and existingBucket", function () {
    const bucket = new aws.s3.Bucket("both", { bucket: "acme-both" });
    assert.throws(() => new StateStore("both", { url: "s3://acme-both", existingBucket: bucket }), /either url or existingBucket/);
  });
});

// Under the same mocks (they are process-wide): what the other resources hand the engine.
describe("resource arguments under mocks", function () {
  const { ClusterConfig, ClusterUpdate, StateStoreMigration } = require("../../src") as typeof import("../../src");

  it("a ClusterUpdate on a ClusterConfig reaches the store with the settings the ClusterConfig was given", async function () {
    const cluster = new ClusterConfig("given", { store: "s3://acme-given", name: "given.k8s.example.com", endpoint: "http://127.0.0.1:9000", region: "eu-west-3", options: { zones: ["eu-west-3a"] } });
    const update = new ClusterUpdate("given-update", { cluster, kops: "/usr/bin/kops" });
    await value(update.urn);
    const registered = created.find((c) => c.type === "pulumi-nodejs:dynamic/kstate:ClusterUpdate" && c.name === "given-update")!;
    assert.equal(registered.inputs.endpoint, "http://127.0.0.1:9000");
    assert.equal(registered.inputs.region, "eu-west-3");
    // Taken from what the ClusterConfig was given, not from its outputs: a setting not given is not
    // handed on as an output of nothing (which a preview shows as unknown), but left to the environment.
    assert.deepEqual(["accessKeyId", "secretAccessKey", "sessionToken", "project"].filter((k) => k in registered.inputs), []);
  });

  it("a StateStoreMigration refuses a store setting given beside the URLs, which would be ignored", function () {
    assert.throws(
      () => new StateStoreMigration("stray", { clusterName: "c.k8s.example.com", source: "s3://a-store", destination: "s3://b-store", endpoint: "http://127.0.0.1:9" } as never),
      /StateStoreMigration stray: endpoint is not an input; how each end is reached goes in sourceSettings and destinationSettings/,
    );
  });
});
