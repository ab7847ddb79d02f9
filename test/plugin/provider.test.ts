/**
 * The provider plugin's own rules, beside the engine test (test/engine/yaml-program.test.ts):
 * secrets opened for the providers and sealed again in every answer, URNs read back to the
 * resource, a configBase read back to its store and cluster, and the schema naming each
 * resource's secret properties as the TypeScript classes seal them.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { clusterAt, parseUrn, seal, unseal } from "../../src/plugin/provider";
import { RESOURCES, secretNames } from "../../src/plugin/schema";
import { configBaseOf } from "../../src/store/layout";

const SIG = pulumi.runtime.specialSigKey;
const SECRET = pulumi.runtime.specialSecretSig;
const secret = (value: unknown) => ({ [SIG]: SECRET, value });

describe("the provider plugin", function () {
  it("opens secrets at any depth and names the top-level keys that held one", function () {
    const { values, sealed } = unseal({ a: 1, b: secret("x"), c: { d: [secret({ e: secret("y") })] }, f: null });
    assert.deepEqual(values, { a: 1, b: "x", c: { d: [{ e: "y" }] }, f: null });
    assert.deepEqual([...sealed].sort(), ["b", "c"]);
  });

  it("seals the named keys that are set, and drops undefined values a protobuf Struct cannot carry", function () {
    const out = seal({ a: "x", b: undefined, c: null, d: { e: undefined, f: [undefined, 1] } }, ["a", "b", "c"]);
    assert.deepEqual(out, { a: secret("x"), c: null, d: { f: [null, 1] } });
  });

  it("reads a resource's type and name from its URN, under parents too", function () {
    assert.deepEqual(parseUrn("urn:pulumi:dev::proj::kstate:index:ClusterConfig::dev"), { stack: "dev", project: "proj", type: "kstate:index:ClusterConfig", name: "dev" });
    assert.deepEqual(parseUrn("urn:pulumi:prod::p::my:Component$kstate:index:StateStore::a::b"), { stack: "prod", project: "p", type: "kstate:index:StateStore", name: "a::b" });
  });

  it("reads a configBase back to its store and cluster, and refuses one that does not agree with store or name", function () {
    assert.deepEqual(clusterAt("s3://bucket/dev.example.com", {}), { store: "s3://bucket", name: "dev.example.com" });
    assert.deepEqual(clusterAt("s3://bucket/prefix/dev.example.com/", {}), { store: "s3://bucket/prefix", name: "dev.example.com" });
    assert.deepEqual(clusterAt("/srv/store/dev.example.com", {}), { store: "file:///srv/store", name: "dev.example.com" });
    assert.deepEqual(clusterAt(undefined, { store: "gs://b", name: "n" }), { store: "gs://b", name: "n" });
    assert.deepEqual(clusterAt("gs://b/n", { store: "gs://b", name: "n" }), { store: "gs://b", name: "n" });
    assert.throws(() => clusterAt("gs://b/n", { name: "m" }), /name "m" is not the configBase's \("n"\)/);
    for (const bad of ["dev.example.com", "s3://bucket", "nope://b/n", "/"]) assert.throws(() => clusterAt(bad, {}), /is not a cluster's configBase/, bad);
    // The inverse of the configBase kstate writes, on every scheme.
    for (const store of ["s3://bucket/p", "gs://bucket", "file:///srv/store"]) {
      assert.deepEqual(clusterAt(configBaseOf(`${store}/dev.example.com`), {}), { store, name: "dev.example.com" });
    }
  });

  it("marks secret what the TypeScript classes seal", function () {
    assert.deepEqual(secretNames(RESOURCES.StateStore.outputs).sort(), ["clientSideEncryption", "secretAccessKey", "sessionToken"]);
    assert.deepEqual(secretNames(RESOURCES.ClusterConfig.outputs).sort(), ["ca", "clientSideEncryption", "secretAccessKey", "secretHashKey", "secrets", "sessionToken"]);
    assert.deepEqual(secretNames(RESOURCES.ClusterUpdate.outputs).sort(), ["environment", "secretAccessKey", "sessionToken"]);
    assert.deepEqual(secretNames(RESOURCES.StateStoreMigration.outputs).sort(), ["destinationSettings", "sourceSettings"]);
  });
});
