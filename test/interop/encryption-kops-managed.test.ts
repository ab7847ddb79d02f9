/**
 * Client-side encryption on a store holding a cluster kops manages. The cluster is made by the
 * real kops binary: `create cluster --dry-run -o yaml`, `create -f`, then `update cluster --yes`
 * on Hetzner with every cloud task's lifecycle set to Ignore, so kops writes its own state
 * (pki/, secrets/, kops-version.txt, cluster-completed.spec) to the store and then waits on the
 * cloud it cannot reach; the test stops it once those files are there. Asset hashes come from a
 * loopback stand-in (KOPS_BASE_URL).
 *
 * Patterns that take in files kops or its nodes read are refused there without the opt-in, both
 * when the policy is set and when a writer would seal, with the store byte-identical; with the
 * opt-in they are allowed. kops itself still lists and reads the cluster with the policy file in
 * the store.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { POLICY_FILE } from "../../src/store/encryption-policy";
import { isEnvelope, NotFoundError, openPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { makeS3Bucket, openOptions } from "../support/env";
import { CHANNEL, kops, kopsEnv } from "../support/kops";
import { toolPath } from "../support/servers";
import { snapshot } from "../support/snapshot";
import { s3Env } from "../support/stores";

const NAME = "managed.k8s.example.com";
const PASSPHRASE = "kops-managed store passphrase 4410";

/** Answers kops's asset hash lookups (`*.sha256`) with a made-up hash; nothing else exists. */
async function startAssetHashes(): Promise<{ base: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url?.endsWith(".sha256")) {
      res.end(`${createHash("sha256").update(req.url).digest("hex")}\n`);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}/kops/1.36.2/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function exists(url: string, file: string): Promise<boolean> {
  return openPath(url, openOptions()).join(NAME, file).stat().then(() => true, (e) => {
    if (NotFoundError.isInstance(e)) return false;
    throw e;
  });
}

/** A cluster kops created and updated itself: its state files, written by kops. */
async function kopsManagedCluster(url: string, assets: string): Promise<void> {
  const env = kopsEnv({ HCLOUD_TOKEN: "unused-offline", KOPS_FEATURE_FLAGS: "-ImageDigest", KOPS_BASE_URL: assets });
  const expanded = await kops(["create", "cluster", "--name", NAME, "--state", url, "--cloud", "hetzner", "--zones", "fsn1", "--kubernetes-version", "v1.34.1",
    "--channel", CHANNEL, "--image", "ubuntu-24.04", "--node-size", "cx22", "--control-plane-size", "cx32", "--dry-run", "-o", "yaml"], env);
  const manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-managed-")), "cluster.yaml");
  fs.writeFileSync(manifest, expanded.stdout);
  await kops(["create", "-f", manifest, "--state", url], env);
  const update: ChildProcess = spawn(toolPath("kops"), ["update", "cluster", "--name", NAME, "--state", url, "--yes",
    "--lifecycle-overrides", "Network=Ignore,Firewall=Ignore,LoadBalancer=Ignore,ServerGroup=Ignore,SSHKey=Ignore,Volume=Ignore"], { env, stdio: "ignore" });
  let exited = false;
  update.on("exit", () => (exited = true));
  try {
    const deadline = Date.now() + 120_000;
    while (!((await exists(url, "kops-version.txt")) && (await exists(url, "cluster-completed.spec")) && (await exists(url, "secrets/admin")))) {
      if (exited) throw new Error("kops update cluster ended before writing kops-version.txt and cluster-completed.spec");
      if (Date.now() > deadline) throw new Error("kops update cluster wrote no kops-version.txt and cluster-completed.spec within 120 s");
      await new Promise((r) => setTimeout(r, 250));
    }
    // Its remaining managed files are written in the same pass: give it a moment to finish them.
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    if (!exited) {
      const gone = new Promise((r) => update.once("exit", r));
      update.kill("SIGTERM");
      await gone;
    }
  }
}

const stores: { name: string; make: () => Promise<{ url: string; cloud: Record<string, string> }> }[] = [
  { name: "file://", make: async () => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-managed-store-"))}`, cloud: {} }) },
  {
    name: "s3 (MinIO)",
    make: async () => ({ url: `s3://${await makeS3Bucket()}`, cloud: s3Env() }),
  },
];

describe("client-side encryption on a cluster kops manages (the real kops binary)", function () {
  this.timeout(300_000);
  let assets: { base: string; close(): Promise<void> };
  before(async function () {
    assets = await startAssetHashes();
  });
  after(async function () {
    await assets?.close();
  });

  for (const s of stores) {
    it(`${s.name}: patterns over files kops reads are refused without --encrypt-breaks-kops (store unchanged), allowed with it; kops still reads the store`, async function () {
      const { url, cloud } = await s.make();
      await scenario(url, cloud);
    });
  }

  async function scenario(url: string, cloud: Record<string, string>): Promise<void> {
    {
      await kopsManagedCluster(url, assets.base);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-managed-cli-"));
      const passFile = path.join(dir, "pass");
      fs.writeFileSync(passFile, PASSPHRASE, { mode: 0o600 });
      const env = { KOPS_STATE_STORE: url, ...cloud };
      const root = openWith(url, cloud);
      const before = await snapshot(root);
      assert.ok(Object.keys(before).some((f) => f === `${NAME}/kops-version.txt`), "kops wrote its version file");

      // Setting a policy over kops's files: refused, nothing written.
      for (const patterns of [undefined, "config", "pki/issued/**", "igconfig/node/**"]) {
        const r = await kstate(["encryption", "set", "--passphrase-file", passFile, ...(patterns ? ["--encrypt-patterns", patterns] : [])], { env });
        assert.equal(r.code, 1, `${patterns}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, new RegExp(`refusing to record .*: kops manages ${NAME.replace(/\./g, "\\.")} \\(kops-version\\.txt or cluster-completed\\.spec\\), and .* would encrypt files kops or its nodes read, which breaks kops's next update and node boot\\. Nothing was written\\..*--encrypt-breaks-kops`));
        assert.deepEqual(await snapshot(root), before, `${patterns}: the store is byte-identical`);
      }
      // A writer sealing kops's files with its own settings (no policy): refused, nothing written.
      const sealing = await kstate(["create", "secret", "extra", "--name", NAME, "--from-literal", "extra-value"], { env: { ...env, KSTATE_PASSPHRASE: PASSPHRASE } });
      assert.equal(sealing.code, 1, sealing.stderr);
      assert.match(sealing.stderr, new RegExp(`cluster ${NAME.replace(/\./g, "\\.")} in \\S+ is managed by kops .* secrets/\\*\\*, pki/private/\\*\\* would encrypt files kops or its nodes read.*nothing was written.*--encrypt-breaks-kops`));
      assert.deepEqual(await snapshot(root), before);
      // Patterns outside kops's files are no such problem.
      const aside = await kstate(["encryption", "set", "--passphrase-file", passFile, "--encrypt-patterns", "kstate-notes/**"], { env });
      assert.equal(aside.code, 0, aside.stderr);
      assert.equal((await kstate(["encryption", "clear"], { env })).code, 0);
      assert.deepEqual(await snapshot(root), before);

      // With the opt-in: recorded, and a writer with the key seals.
      const opted = await kstate(["encryption", "set", "--passphrase-file", passFile, "--encrypt-breaks-kops"], { env });
      assert.equal(opted.code, 0, opted.stderr);
      assert.equal(JSON.parse((await root.join(...POLICY_FILE.split("/")).read()).data.toString()).allowEncryptingKopsReads, true);
      // kops lists the store's whole tree and keeps keys ending in /config: the policy file is nothing to it.
      const listed = await kops(["get", "clusters", "--state", url, "-o", "json"], kopsEnv(cloud));
      assert.deepEqual((JSON.parse(listed.stdout) as { metadata: { name: string } }[]).map((c) => c.metadata.name), [NAME]);
      const sealed = await kstate(["create", "secret", "extra", "--name", NAME, "--from-literal", "extra-value"], { env: { ...env, KSTATE_PASSPHRASE: PASSPHRASE } });
      assert.equal(sealed.code, 0, sealed.stderr);
      assert.ok(isEnvelope((await root.join(NAME, "secrets", "extra").read()).data));
    }
  }
});
