/**
 * A migration and the stores' encryption policies (ops/migrate-policy.ts), over every combination
 * of: the source store's policy, the destination store's, another cluster at the destination, and
 * the cluster already half there. Stated as invariants against a small oracle:
 * - a refused move leaves both stores byte-identical, and says why: a file the destination's
 *   policy (its own, or the one the move takes along) names is plaintext at the source, or the
 *   source's policy would bind other clusters at the destination;
 * - a move that goes ahead leaves the destination with its own policy if it had one, else the
 *   source's, else none, and the plan (dry run) named exactly the policy the run recorded;
 * - a policy recorded at the destination after the plan stops the run before anything is copied.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applySync, planSync, syncCluster } from "../../src/ops/migrate";
import { type MigrationInputs, provider } from "../../src/providers/migration";
import { type EncryptionPolicy, POLICY_FILE, policyText, readPolicy } from "../../src/store/encryption-policy";
import { ConflictError, openPath, RefusedError, resetMemoryStore, type VfsPath } from "../../src/vfs";
import { snapshot } from "../support/snapshot";

const CLUSTER = "carry.k8s.example.com";
const OTHER = "other.k8s.example.com";
const config = (store: string, name = CLUSTER) => `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${name}\nspec:\n  configBase: ${store}/${name}\n  kubernetesVersion: v1.30.2\n`;

/** Names the cluster's plaintext secret, so a destination keeping it refuses the move. */
const SEALS_SECRETS: EncryptionPolicy = { version: 1, keyProvider: "passphrase", patterns: ["secrets/**"], allowEncryptingKopsReads: false };
/** Names nothing the cluster holds. */
const SEALS_KEYS: EncryptionPolicy = { version: 1, keyProvider: "aws-kms", awsKmsKeyId: "alias/kstate-test", patterns: ["pki/private/**"], allowEncryptingKopsReads: false };
const POLICIES = { none: undefined, secrets: SEALS_SECRETS, keys: SEALS_KEYS } as const;

interface Case {
  source: keyof typeof POLICIES;
  destination: keyof typeof POLICIES;
  otherCluster: boolean;
  halfThere: boolean;
}

function* cases(): Generator<Case> {
  for (const source of Object.keys(POLICIES) as (keyof typeof POLICIES)[]) {
    for (const destination of Object.keys(POLICIES) as (keyof typeof POLICIES)[]) {
      for (const otherCluster of [false, true]) for (const halfThere of [false, true]) yield { source, destination, otherCluster, halfThere };
    }
  }
}

/** What the move must do: refuse (and why), or go ahead leaving this policy at the destination. */
function oracle(c: Case): { refused: RegExp } | { policy: EncryptionPolicy | undefined; carried: boolean } {
  const destination = POLICIES[c.destination];
  const source = POLICIES[c.source];
  if (destination) return destination === SEALS_SECRETS ? { refused: /destination store keeps secrets\/\*\* .* this file is plaintext .*secrets\/admin/ } : { policy: destination, carried: false };
  if (source === SEALS_SECRETS && !c.otherCluster) return { refused: /the source store keeps secrets\/\*\* .*which the move records at the destination, and this file is plaintext .*secrets\/admin.*kstate rekey/ };
  if (source && c.otherCluster) return { refused: new RegExp(`the source store keeps ${source.patterns[0]!.replace(/\*/g, "\\*")} .*records no policy while it holds other clusters \\(${OTHER.replace(/\./g, "\\.")}\\); nothing was copied`) };
  return { policy: source, carried: source !== undefined };
}

let n = 0;
const folders: string[] = [];
async function stores(c: Case): Promise<{ from: VfsPath; to: VfsPath }> {
  const from = openPath(`memfs://carry-src-${++n}`);
  const to = openPath(`memfs://carry-dst-${n}`);
  await from.join(CLUSTER, "config").write(config(from.url));
  await from.join(CLUSTER, "instancegroup", "nodes").write("kind: InstanceGroup\n");
  await from.join(CLUSTER, "secrets", "admin").write('{"Data":"cGxhaW4="}');
  const sourcePolicy = POLICIES[c.source];
  const destinationPolicy = POLICIES[c.destination];
  if (sourcePolicy) await from.join(...POLICY_FILE.split("/")).write(policyText(sourcePolicy));
  if (destinationPolicy) await to.join(...POLICY_FILE.split("/")).write(policyText(destinationPolicy));
  if (c.otherCluster) await to.join(OTHER, "config").write(config(to.url, OTHER));
  if (c.halfThere) await to.join(CLUSTER, "instancegroup", "nodes").write("kind: InstanceGroup\n");
  return { from, to };
}

describe("migrate and the stores' encryption policies", function () {
  after(() => {
    for (let i = 1; i <= n; i++) for (const side of ["src", "dst"]) resetMemoryStore(`carry-${side}-${i}`);
    for (const f of folders) fs.rmSync(f, { recursive: true, force: true });
  });

  for (const c of cases()) {
    const title = `source ${c.source}, destination ${c.destination}${c.otherCluster ? ", another cluster there" : ""}${c.halfThere ? ", half there already" : ""}`;
    it(title, async function () {
      const { from, to } = await stores(c);
      const want = oracle(c);
      const before = { from: await snapshot(from), to: await snapshot(to) };
      const storesOf = { source: from, destination: to };
      if ("refused" in want) {
        await assert.rejects(planSync(from.join(CLUSTER), to.join(CLUSTER), { stores: storesOf }), (e: unknown) => RefusedError.isInstance(e) && want.refused.test((e as Error).message));
        assert.deepEqual({ from: await snapshot(from), to: await snapshot(to) }, before, "a refused move writes nothing");
        return;
      }
      const plan = await planSync(from.join(CLUSTER), to.join(CLUSTER), { stores: storesOf });
      assert.deepEqual({ from: await snapshot(from), to: await snapshot(to) }, before, "planning writes nothing");
      assert.deepEqual(plan.result.carriedPolicy, want.carried ? { url: `${to.url}/${POLICY_FILE}`, policy: want.policy } : undefined);
      const done = await applySync(plan);
      assert.equal(done.verified, true);
      assert.deepEqual((await readPolicy(to))?.policy, want.policy, "the destination's policy: its own, else the source's");
      assert.deepEqual(await snapshot(from), before.from, "the source is untouched");
      // Run again: the policy is there now, so nothing more is carried and nothing is copied.
      const again = await syncCluster(from.join(CLUSTER), to.join(CLUSTER), { stores: storesOf, dryRun: true });
      assert.equal(again.carriedPolicy, undefined);
      assert.equal(again.filesCopied, 0);
    });
  }

  it("a policy recorded at the destination after the plan stops the run before anything is copied", async function () {
    const { from, to } = await stores({ source: "keys", destination: "none", otherCluster: false, halfThere: false });
    const plan = await planSync(from.join(CLUSTER), to.join(CLUSTER), { stores: { source: from, destination: to } });
    assert.ok(plan.result.carriedPolicy);
    await to.join(...POLICY_FILE.split("/")).write(policyText(SEALS_SECRETS));
    const before = await snapshot(to);
    await assert.rejects(applySync(plan), (e: unknown) => ConflictError.isInstance(e) && /another encryption policy was recorded there after the plan read none; nothing was copied/.test((e as Error).message));
    assert.deepEqual(await snapshot(to), before);
    // The same policy recorded meanwhile is no conflict.
    const { from: f2, to: t2 } = await stores({ source: "keys", destination: "none", otherCluster: false, halfThere: false });
    const plan2 = await planSync(f2.join(CLUSTER), t2.join(CLUSTER), { stores: { source: f2, destination: t2 } });
    await t2.join(...POLICY_FILE.split("/")).write(policyText(SEALS_KEYS));
    assert.equal((await applySync(plan2)).verified, true);
  });

  it("StateStoreMigration's preview names the policy it records, and up records it", async function () {
    const dir = (what: string) => {
      folders.push(fs.mkdtempSync(path.join(os.tmpdir(), `kstate-carry-${what}-`)));
      return `file://${folders[folders.length - 1]}`;
    };
    const source = dir("src");
    const destination = dir("dst");
    const from = openPath(source);
    await from.join(CLUSTER, "config").write(config(source));
    await from.join(...POLICY_FILE.split("/")).write(policyText(SEALS_KEYS));
    const checked = await provider.check({} as MigrationInputs, { clusterName: CLUSTER, source, destination } as MigrationInputs);
    assert.deepEqual(checked.failures ?? [], []);
    assert.ok(checked.inputs!.plan!.includes(`record the source store's encryption policy (the destination keeps none): pki/private/** encrypted with the AWS KMS key alias/kstate-test, in ${destination}/${POLICY_FILE}`), JSON.stringify(checked.inputs!.plan));
    assert.equal(await readPolicy(openPath(destination)), undefined, "the preview writes nothing");
    await provider.create(checked.inputs!);
    assert.deepEqual((await readPolicy(openPath(destination)))?.policy, SEALS_KEYS);
    // With another cluster at a third store, the preview fails on the destination, naming why.
    const crowded = dir("crowded");
    await openPath(crowded).join(OTHER, "config").write(config(crowded, OTHER));
    const refused = await provider.check({} as MigrationInputs, { clusterName: CLUSTER, source, destination: crowded } as MigrationInputs);
    assert.deepEqual(refused.failures?.map((f) => f.property), ["destination"]);
    assert.match(refused.failures![0]!.reason, /records no policy while it holds other clusters \(other\.k8s\.example\.com\)/);
  });
});
