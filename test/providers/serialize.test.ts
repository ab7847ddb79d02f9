/**
 * What Pulumi stores as each resource's provider must stay tiny: plain strings and code that
 * requires the installed package, never an SDK client or a copy of kstate's modules.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { clusterConfigProvider } from "../../src/resources/cluster-config";
import { migrationProvider } from "../../src/resources/migration";
import { stateStoreProvider } from "../../src/resources/state-store";

const providers: Record<string, pulumi.dynamic.ResourceProvider> = {
  StateStore: stateStoreProvider as pulumi.dynamic.ResourceProvider,
  ClusterConfig: clusterConfigProvider as pulumi.dynamic.ResourceProvider,
  StateStoreMigration: migrationProvider as pulumi.dynamic.ResourceProvider,
};

const MAX_SERIALIZED_BYTES = 4096;

describe("serialized dynamic providers", function () {
  this.timeout(60_000);
  for (const [name, provider] of Object.entries(providers)) {
    it(`${name}: serializes to less than ${MAX_SERIALIZED_BYTES} bytes with no SDK inside`, async function () {
      const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
      assert.ok(text.length < MAX_SERIALIZED_BYTES, `${name} serializes to ${text.length} bytes:\n${text.slice(0, 3000)}`);
      for (const marker of ["S3Client", "client-s3", "google-cloud", "Storage(", "smithy"]) {
        assert.ok(!text.includes(marker), `${name} captured ${marker}`);
      }
      assert.match(text, /require\(`kstate\/providers\//);
    });
  }
});
