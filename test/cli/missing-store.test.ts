/**
 * A store that is not there, or holds no cluster, is an error naming it on every command that
 * reads, as kops has it (`kops get clusters`: "error reading state store: open DIR: no such file or
 * directory", and "no clusters found"); nothing is created by asking. Creating a cluster in a
 * folder that is not there yet makes the folder, as kops does.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bucketAdmin } from "../../src/vfs";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { makeS3Bucket, s3Options, uniqueName } from "../support/env";
import { kops, kopsEnv } from "../support/kops";
import { MINIO_PASSWORD, MINIO_USER } from "../support/servers";

const NAME = "missing.k8s.example.com";
const S3 = { S3_ENDPOINT: "", S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: MINIO_USER, S3_SECRET_ACCESS_KEY: MINIO_PASSWORD };

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "kstate-missing-"));
}

/** What kops says for `get clusters` on the store (it fails there too). */
async function kopsGetClusters(state: string): Promise<string> {
  return kops(["get", "clusters", "--state", state], kopsEnv()).then(
    (r) => assert.fail(`kops get clusters succeeded on ${state}: ${r.stdout}`),
    (e: Error) => e.message,
  );
}

/** Every command that reads the store, run against `state`: each fails (exit 1) naming `shown`. */
async function everyReadFails(state: string, shown: string, options: { history: boolean; env?: Record<string, string> }): Promise<void> {
  const dir = tmpDir();
  const commands = [
    ["get", "cluster", NAME],
    ["get", "clusters", NAME],
    ["get", "ig", "--name", NAME],
    ["get", "all", NAME],
    ["get", "all", NAME, "-o", "yaml"],
    ["get", "secrets", "--name", NAME],
    ["create", "secret", "token", "--name", NAME, "--from-literal", "value"],
    ["edit", "cluster", NAME],
    ["edit", "ig", "--name", NAME, "nodes"],
    ["export", NAME, "--to", path.join(dir, "exported")],
    ["delete", "cluster", NAME, "--yes"],
    ["rekey", NAME],
    ["migrate", NAME, "--to", `file://${path.join(dir, "moved")}`, "--yes"],
    ...(options.history ? [["history", NAME], ["rollback", NAME, "--to", "1", "--yes"]] : []),
  ];
  for (const argv of commands) {
    const r = await kstate([...argv, "--state", state], { env: { ...options.env, KSTATE_EDITOR: "true", KSTATE_PASSPHRASE: "a passphrase for rekey" } });
    assert.equal(r.code, 1, `${argv.join(" ")} --state ${state}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.includes(shown), `${argv.join(" ")} --state ${state} names ${shown}: ${r.stderr}`);
  }
  assert.deepEqual(fs.readdirSync(dir), [], "nothing exported or migrated");
}

describe("a store that is not there, or holds no cluster", function () {
  this.timeout(120_000);

  it("file://: a folder that is not there is an error naming it, for every command that reads, and stays absent", async function () {
    const missing = path.join(tmpDir(), "nonexistent");
    assert.match(await kopsGetClusters(`file://${missing}`), new RegExp(`error reading state store: open ${missing}: no such file or directory`));
    for (const state of [missing, `file://${missing}`]) {
      for (const argv of [["get", "clusters"], ["get", "clusters", "-o", "json"], ["get", "clusters", "-o", "yaml"]]) {
        const r = await kstate([...argv, "--state", state]);
        assert.equal(r.code, 1, `${argv.join(" ")} --state ${state}: ${r.stdout}`);
        assert.equal(r.stdout, "");
        assert.equal(r.stderr, `kstate get: state store file://${missing} does not exist (no such folder)\n`);
      }
      await everyReadFails(state, `file://${missing}`, { history: true });
    }
    assert.ok(!fs.existsSync(missing), "asking created nothing");
  });

  it("file://: a folder with no cluster is \"no clusters found\", as kops says", async function () {
    const empty = tmpDir();
    assert.match(await kopsGetClusters(`file://${empty}`), /Error: no clusters found/);
    const r = await kstate(["get", "clusters", "--state", empty]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `kstate get: no clusters found in file://${empty}\n`);
    await everyReadFails(`file://${empty}`, `file://${empty}`, { history: true });
    assert.deepEqual(fs.readdirSync(empty), []);
  });

  it("s3 (MinIO): a bucket that is not there, and a bucket or prefix with no cluster, fail naming them and stay as they were", async function () {
    const s3 = { ...S3, S3_ENDPOINT: s3Options().endpoint! };
    const bucket = await makeS3Bucket();
    const absent = `s3://${uniqueName("absent")}`;
    assert.match(await kopsGetClusters(absent), /error reading state store: .*NoSuchBucket/);
    assert.match(await kopsGetClusters(`s3://${bucket}/prefix`), /Error: no clusters found/);
    const r = await kstate(["get", "clusters", "--state", absent], { env: s3 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^kstate get: list ${absent}: 404 NoSuchBucket`));
    await everyReadFails(absent, absent, { history: true, env: s3 });
    assert.equal((await bucketAdmin(openWith(absent, s3)).settings()).exists, false, "the bucket was not made");

    for (const state of [`s3://${bucket}`, `s3://${bucket}/prefix`]) {
      const none = await kstate(["get", "clusters", "--state", state], { env: s3 });
      assert.equal(none.code, 1);
      assert.equal(none.stderr, `kstate get: no clusters found in ${state}\n`);
      // history of a cluster that is not there is left out: it lists no revisions (history.ts).
      await everyReadFails(state, state, { history: false, env: s3 });
    }
    assert.deepEqual(await openWith(`s3://${bucket}`, s3).listTree(), []);
  });

  it("create cluster makes a folder that is not there yet, as kops create does, and kops reads what it wrote", async function () {
    const root = tmpDir();
    const manifest = path.join(root, "cluster.yaml");
    const planned = await kstate(["create", "cluster", NAME, "--cloud", "hetzner", "--zones", "fsn1", "--kubernetes-version", "v1.30.2", "--image", "ubuntu-24.04", "--dry-run", "-o", "yaml", "--state", `file://${root}/planned`]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.ok(!fs.existsSync(path.join(root, "planned")), "a dry run makes no folder");
    fs.writeFileSync(manifest, planned.stdout);
    await kops(["create", "-f", manifest, "--state", `file://${root}/by-kops/a/b`], kopsEnv({ HCLOUD_TOKEN: "unused-offline" }));
    assert.ok(fs.existsSync(path.join(root, "by-kops", "a", "b", NAME, "config")), "kops makes the folders");

    const state = `file://${root}/by-kstate/a/b`;
    const created = await kstate(["create", "cluster", NAME, "--cloud", "hetzner", "--zones", "fsn1", "--kubernetes-version", "v1.30.2", "--image", "ubuntu-24.04", "--state", state]);
    assert.equal(created.code, 0, created.stderr);
    const ours = await kstate(["get", "clusters", "--state", state]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(ours.stdout, (await kops(["get", "clusters", "--state", state], kopsEnv())).stdout);
  });
});
