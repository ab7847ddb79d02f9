/**
 * The keypair operations as the Pulumi side calls them (plain data in and out, plan then apply),
 * and kops's legacy keyset names.
 */
import * as assert from "node:assert/strict";
import { generateCa } from "../../src/ops/certificates";
import { applyCaImport, applyKeypairPlan, isNoop, listKeypairs, planCaImport, planDistrustKeypair, planPromoteKeypair, readKeyset } from "../../src/ops/keypairs";
import { adminKubeconfig } from "../../src/ops/kubeconfig";
import { ClusterStore } from "../../src/store/cluster-store";
import { keysetFile, parseKeyset, serializeKeyset } from "../../src/store/keyset";
import { openPath, resetMemoryStore } from "../../src/vfs";
import { RefusedError, ValidationError } from "../../src/vfs/errors";
import { uniqueName } from "../support/env";
import { snapshot } from "../support/snapshot";

const NAME = "ops.k8s.example.com";

async function memoryStore(): Promise<ClusterStore> {
  const n = uniqueName("pki");
  resetMemoryStore(n);
  const root = openPath(`memfs://${n}`);
  await root.join(NAME, "config").create(`apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${NAME}\nspec:\n  masterPublicName: api.example.org\n`);
  return new ClusterStore(root);
}

describe("keypair operations (the Pulumi side's bring-your-own CA)", function () {
  this.timeout(60_000);

  it("plans an import into kubernetes-ca as primary, applies it, and then has nothing to do", async function () {
    const store = await memoryStore();
    const ca = generateCa("byo-ca");
    const pems = { cert: ca.certificate.pem, key: ca.key.pem };
    const before = await snapshot(store.root);
    const plan = await planCaImport(store, NAME, pems);
    assert.deepEqual(await snapshot(store.root), before, "planning writes nothing");
    assert.equal(plan.lines.length, 1);
    assert.match(plan.lines[0]!, /^pki\/private\/kubernetes-ca\/keyset\.yaml: \+ key \d+ \(SERIALNUMBER=\d+,CN=byo-ca, expires \d{4}-\d\d-\d\d\), primary$/);
    assert.equal(plan.id, ca.serial.toString(), "kops keeps the CA's own serial as its id");
    assert.ok(!JSON.stringify(plan.lines).includes("PRIVATE KEY"));
    await applyCaImport(store, plan);
    const again = await planCaImport(store, NAME, pems);
    assert.ok(isNoop(again), "the same CA again: nothing to do");
    const { items } = await listKeypairs(store, NAME);
    assert.deepEqual(items.map((i) => [i.name, i.id, i.isPrimary, i.hasPrivateKey, i.isCA]), [["kubernetes-ca", plan.id, true, true, true]]);
    const kubeconfig = await adminKubeconfig(store, NAME, { lifetimeSeconds: 600 });
    assert.match(kubeconfig, /server: https:\/\/api\.example\.org\n/, "spec.masterPublicName (kops's API.PublicName) is the server");

    // A second CA becomes primary; the first stays trusted until distrusted.
    const next = generateCa("byo-ca-2");
    const rotate = await planCaImport(store, NAME, { cert: next.certificate.pem, key: next.key.pem });
    assert.deepEqual(rotate.lines.slice(1), [`pki/private/kubernetes-ca/keyset.yaml: ~ primary ${plan.id} -> ${rotate.id}`]);
    await applyCaImport(store, rotate);
    const back = await planCaImport(store, NAME, pems);
    assert.deepEqual(back.lines, [`pki/private/kubernetes-ca/keyset.yaml: ~ primary ${rotate.id} -> ${plan.id}`], "importing a held CA as primary promotes it");
  });

  it("refuses bad PEMs and a key of another certificate, naming which, writing nothing", async function () {
    const store = await memoryStore();
    const a = generateCa("a");
    const b = generateCa("b");
    const before = await snapshot(store.root);
    for (const [pems, message] of [
      [{ cert: a.certificate.pem, key: b.key.pem }, /^key: this private key does not belong to the certificate in cert$/],
      [{ cert: "nonsense", key: a.key.pem }, /^cert: no PEM CERTIFICATE block found$/],
      [{ cert: a.certificate.pem, key: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n" }, /^key: the RSA PRIVATE KEY block does not parse/],
    ] as const) {
      await assert.rejects(planCaImport(store, NAME, pems), (e: unknown) => ValidationError.isInstance(e) && message.test(e.message));
    }
    assert.deepEqual(await snapshot(store.root), before);
  });

  it("reads the legacy names kops reads (ca for kubernetes-ca) and writes changes under the current name, the old file left", async function () {
    const store = await memoryStore();
    const first = generateCa("first");
    const second = generateCa("second");
    const legacy = serializeKeyset({
      name: "ca", primaryId: first.serial.toString(),
      keys: [first, second].map((c) => ({ id: c.serial.toString(), publicMaterial: c.certificate.pem, privateMaterial: c.key.pem })),
    });
    await store.cluster(NAME).join(...keysetFile("ca").split("/")).create(legacy);
    const read = await readKeyset(store, NAME, "kubernetes-ca");
    assert.equal(read?.file, "pki/private/ca/keyset.yaml");
    assert.equal((await readKeyset(store, NAME, "service-account")), undefined);
    const plan = await planPromoteKeypair(store, NAME, "kubernetes-ca", second.serial.toString());
    assert.equal(plan.lines[0], "pki/private/kubernetes-ca/keyset.yaml: create (from legacy pki/private/ca/keyset.yaml, which stays)");
    await applyKeypairPlan(store, plan);
    const written = parseKeyset((await store.cluster(NAME).join(...keysetFile("kubernetes-ca").split("/")).read()).data.toString(), "new");
    assert.equal(written.name, "kubernetes-ca");
    assert.equal(written.primaryId, second.serial.toString());
    assert.equal((await store.cluster(NAME).join(...keysetFile("ca").split("/")).read()).data.toString(), legacy, "the legacy file is left as it was");
    await assert.rejects(planDistrustKeypair(store, NAME, "kubernetes-ca", [second.serial.toString()]), (e: unknown) => RefusedError.isInstance(e) && /cannot distrust the primary keypair/.test(e.message));
  });
});
