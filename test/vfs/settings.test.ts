/**
 * How store settings are resolved from an environment handed in (src/vfs/settings.ts): values
 * given win, then kops's and the clouds' variables, with the rules that depend on an endpoint.
 */
import * as assert from "node:assert/strict";
import { resolveKmsSettings, resolveStoreSettings, SCHEMES, type StoreSettings } from "../../src/vfs";

const ENDPOINT = "http://127.0.0.1:9000";

interface Case {
  name: string;
  given?: StoreSettings;
  env: Record<string, string | undefined>;
  s3?: Record<string, unknown>;
  gcs?: Record<string, unknown>;
}

const cases: Case[] = [
  { name: "nothing given, nothing set: nothing", env: {}, s3: {}, gcs: {} },
  {
    name: "S3_ENDPOINT brings S3_REGION and the S3_* key pair",
    env: { S3_ENDPOINT: ENDPOINT, S3_REGION: "eu-west-3", S3_ACCESS_KEY_ID: "s3-id", S3_SECRET_ACCESS_KEY: "s3-secret" },
    s3: { endpoint: ENDPOINT, region: "eu-west-3", accessKeyId: "s3-id", secretAccessKey: "s3-secret" },
  },
  {
    name: "without an endpoint, S3_REGION and the S3_* pair are not read; AWS_* are",
    env: { S3_REGION: "eu-west-3", S3_ACCESS_KEY_ID: "s3-id", S3_SECRET_ACCESS_KEY: "s3-secret", AWS_ACCESS_KEY_ID: "aws-id", AWS_SECRET_ACCESS_KEY: "aws-secret", AWS_SESSION_TOKEN: "aws-token", AWS_REGION: "ap-south-1" },
    s3: { defaultRegion: "ap-south-1", accessKeyId: "aws-id", secretAccessKey: "aws-secret", sessionToken: "aws-token" },
  },
  {
    name: "an explicit endpoint brings the S3_* variables too",
    given: { s3: { endpoint: ENDPOINT } },
    env: { S3_REGION: "eu-west-3", S3_ACCESS_KEY_ID: "s3-id", S3_SECRET_ACCESS_KEY: "s3-secret" },
    s3: { endpoint: ENDPOINT, region: "eu-west-3", accessKeyId: "s3-id", secretAccessKey: "s3-secret" },
  },
  {
    name: "with an endpoint, the S3_* pair beats AWS_*, and AWS_SESSION_TOKEN does not go with it; AWS_REGION is not the default region",
    env: { S3_ENDPOINT: ENDPOINT, S3_ACCESS_KEY_ID: "s3-id", S3_SECRET_ACCESS_KEY: "s3-secret", AWS_ACCESS_KEY_ID: "aws-id", AWS_SECRET_ACCESS_KEY: "aws-secret", AWS_SESSION_TOKEN: "aws-token", AWS_REGION: "ap-south-1" },
    s3: { endpoint: ENDPOINT, accessKeyId: "s3-id", secretAccessKey: "s3-secret" },
  },
  {
    name: "with an endpoint but half an S3_* pair, the AWS_* pair is taken",
    env: { S3_ENDPOINT: ENDPOINT, S3_ACCESS_KEY_ID: "s3-id", AWS_ACCESS_KEY_ID: "aws-id", AWS_SECRET_ACCESS_KEY: "aws-secret" },
    s3: { endpoint: ENDPOINT, accessKeyId: "aws-id", secretAccessKey: "aws-secret" },
  },
  {
    name: "explicit values beat every variable",
    given: { s3: { endpoint: "https://s3.example.com", region: "us-west-2", accessKeyId: "given-id", secretAccessKey: "given-secret", sessionToken: "given-token", defaultRegion: "sa-east-1" }, gcs: { endpoint: "http://gcs.example.com", projectId: "given-project" } },
    env: { S3_ENDPOINT: ENDPOINT, S3_REGION: "eu-west-3", S3_ACCESS_KEY_ID: "s3-id", S3_SECRET_ACCESS_KEY: "s3-secret", AWS_ACCESS_KEY_ID: "aws-id", AWS_SECRET_ACCESS_KEY: "aws-secret", AWS_SESSION_TOKEN: "aws-token", AWS_REGION: "ap-south-1", STORAGE_EMULATOR_HOST: "localhost:4443", GOOGLE_CLOUD_PROJECT: "env-project" },
    s3: { endpoint: "https://s3.example.com", region: "us-west-2", defaultRegion: "sa-east-1", accessKeyId: "given-id", secretAccessKey: "given-secret", sessionToken: "given-token" },
    gcs: { endpoint: "http://gcs.example.com", projectId: "given-project" },
  },
  {
    name: "a given key id is completed by S3_SECRET_ACCESS_KEY (with an endpoint), one value each",
    given: { s3: { accessKeyId: "given-id" } },
    env: { S3_ENDPOINT: ENDPOINT, S3_ACCESS_KEY_ID: "s3-id", S3_SECRET_ACCESS_KEY: "s3-secret" },
    s3: { endpoint: ENDPOINT, accessKeyId: "given-id", secretAccessKey: "s3-secret" },
  },
  {
    name: "AWS_DEFAULT_REGION when AWS_REGION is unset; empty variables count as unset",
    env: { AWS_REGION: "", AWS_DEFAULT_REGION: "eu-north-1", S3_ENDPOINT: "", AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "aws-secret" },
    s3: { defaultRegion: "eu-north-1" },
  },
  {
    name: "GCS: STORAGE_EMULATOR_HOST as given, GOOGLE_CLOUD_PROJECT before GCLOUD_PROJECT",
    env: { STORAGE_EMULATOR_HOST: "localhost:4443/storage/v1", GOOGLE_CLOUD_PROJECT: "first", GCLOUD_PROJECT: "second" },
    gcs: { endpoint: "localhost:4443/storage/v1", projectId: "first" },
  },
  { name: "GCS: GCLOUD_PROJECT alone", env: { GCLOUD_PROJECT: "second" }, gcs: { projectId: "second" } },
  {
    name: "server-side encryption, timeouts and retries pass through untouched",
    given: { s3: { encryption: { mode: "aws:kms", kmsKeyId: "k" }, forcePathStyle: false }, timeoutMs: 5, retry: { attempts: 2 } },
    env: {},
    s3: { encryption: { mode: "aws:kms", kmsKeyId: "k" }, forcePathStyle: false },
  },
];

describe("store settings resolved from an environment handed in", function () {
  for (const c of cases) {
    it(c.name, function () {
      const before = JSON.stringify(c.given ?? {});
      const got = resolveStoreSettings(c.given ?? {}, c.env);
      if (c.s3) assert.deepEqual(got.s3, c.s3);
      if (c.gcs) assert.deepEqual(got.gcs, c.gcs);
      assert.equal(got.timeoutMs, c.given?.timeoutMs);
      assert.deepEqual(got.retry, c.given?.retry);
      assert.equal(JSON.stringify(c.given ?? {}), before, "what was given is not changed");
    });
  }

  // kops is run against the store these settings reach through its variables (ClusterUpdate): read
  // back, they must reach the same store with the same keys. A session token has no S3_* variable,
  // so with an endpoint it stays behind; the default region and project are not kops's to know.
  for (const c of cases) {
    it(`read back from the variables kops is given, the settings reach the same store: ${c.name}`, function () {
      const got = resolveStoreSettings(c.given ?? {}, c.env);
      const variables = { ...SCHEMES.s3.kopsVariables(got), ...SCHEMES.gs.kopsVariables(got) };
      const back = resolveStoreSettings({}, variables);
      const reach = (s3: StoreSettings["s3"] = {}) => {
        const keys = s3.accessKeyId && s3.secretAccessKey;
        return {
          endpoint: s3.endpoint, region: s3.endpoint ? s3.region : undefined,
          accessKeyId: keys ? s3.accessKeyId : undefined, secretAccessKey: keys ? s3.secretAccessKey : undefined,
          sessionToken: keys && !s3.endpoint ? s3.sessionToken : undefined,
        };
      };
      assert.deepEqual(reach(back.s3), reach(got.s3), JSON.stringify(variables));
      assert.equal(back.gcs?.endpoint, got.gcs?.endpoint);
      assert.deepEqual(SCHEMES.file.kopsVariables(got), {});
    });
  }

  it("AWS KMS: the endpoint from AWS_ENDPOINT_URL_KMS and AWS_REGION as the default region; given values win", function () {
    assert.deepEqual(resolveKmsSettings(undefined, { AWS_ENDPOINT_URL_KMS: "http://kms:1", AWS_REGION: "eu-west-1" }), { endpoint: "http://kms:1", defaultRegion: "eu-west-1" });
    assert.deepEqual(resolveKmsSettings({ endpoint: "http://given", region: "us-east-2" }, { AWS_ENDPOINT_URL_KMS: "http://kms:1", AWS_DEFAULT_REGION: "eu-west-1" }), { endpoint: "http://given", region: "us-east-2", defaultRegion: "eu-west-1" });
    assert.deepEqual(resolveKmsSettings({}, {}), {});
  });

  it("client-side encryption's AWS KMS settings are completed, the rest kept", function () {
    const got = resolveStoreSettings({ clientSideEncryption: { awsKmsKeyId: "alias/k", patterns: ["secrets/**"] } }, { AWS_ENDPOINT_URL_KMS: "http://kms:1" });
    assert.deepEqual(got.clientSideEncryption, { awsKmsKeyId: "alias/k", patterns: ["secrets/**"], awsKms: { endpoint: "http://kms:1" } });
  });
});
