/**
 * Keypairs with the real kops v1.36.2 on the same store, both ways, on file:// and MinIO: what
 * kstate writes (imported and generated) kops lists and changes; what kops writes kstate reads,
 * promotes, distrusts and trusts, and kops agrees. `kstate get keypairs` prints kops's table byte for
 * byte; bad input is refused with the store unchanged.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClusterStore } from "../../src/store/cluster-store";
import { keysetFile, parseKeyset, serializeKeyset } from "../../src/store/keyset";
import { applyKeypairPlan, planPromoteKeypair } from "../../src/ops/keypairs";
import { KstateError } from "../../src/vfs/errors";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { kops, kopsEnv } from "../support/kops";
import { keypairList, keypairStores, opensslCa } from "../support/keypairs";
import { snapshot } from "../support/snapshot";

const NAME = "pki.k8s.example.com";
const BY_KOPS = "bykops.k8s.example.com";

for (const [kind, make] of Object.entries(keypairStores)) {
  describe(`keypairs with kops on the same store (${kind})`, function () {
    this.timeout(180_000);
    let url: string;
    let cloud: Record<string, string>;
    let dir: string;
    const ks = (argv: string[], cluster = NAME) => kstate([...argv, "--state", url, ...(argv[0] === "get" || argv[0] === "export" ? [] : ["--name", cluster])], { env: cloud });
    const kopsOut = async (args: string[]) => (await kops([...args, "--state", url], kopsEnv())).stdout;
    /** `get keypairs …` from both tools: kstate's exit code, and the two outputs. */
    const both = async (args: string[], cluster = NAME) => {
      const ours = await ks(["get", "keypairs", ...args, "--name", cluster]);
      assert.equal(ours.code, 0, ours.stderr);
      return { ours: ours.stdout, theirs: await kopsOut(["get", "keypairs", ...args, "--name", cluster]) };
    };
    const ids = async (keyset: string, cluster = NAME) => parseKeyset((await openWith(url, cloud).join(cluster, keysetFile(keyset)).read()).data.toString(), keyset);

    before(async function () {
      ({ url, env: cloud } = await make());
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pki-certs-"));
      for (const cluster of [NAME, BY_KOPS]) {
        const r = await kstate(["create", "cluster", cluster, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2", "--state", url], { env: cloud });
        assert.equal(r.code, 0, r.stderr);
      }
    });

    it("keypairs kstate writes (generated and imported) are listed by kops get keypairs, the same table, the same fields", async function () {
      const generated = await ks(["create", "keypair", "kubernetes-ca", "--generate", "--primary"]);
      assert.equal(generated.code, 0, generated.stderr);
      assert.match(generated.stdout, /\+ key \d+ \(SERIALNUMBER=\d+,CN=kubernetes-ca, expires \d{4}-\d\d-\d\d\), primary\nCreated kubernetes-ca \d+\n$/);
      const sa = await opensslCa(dir, "sa", "service-account");
      assert.equal((await ks(["create", "keypair", "service-account", "--cert", sa.cert, "--key", sa.key, "--primary"])).code, 0);
      const second = await opensslCa(dir, "ca2", "second-ca");
      const added = await ks(["create", "keypair", "kubernetes-ca", "--cert", second.cert, "--key", second.key]);
      assert.equal(added.code, 0, added.stderr);
      assert.equal((await ks(["create", "keypair", "kubernetes-ca", "--cert", second.cert, "--key", second.key])).code, 4, "the same certificate again: nothing to do");

      for (const args of [[], ["kubernetes-ca"], ["--distrusted"], ["service-account", "kubernetes-ca"]]) {
        const { ours, theirs } = await both(args);
        assert.equal(ours, theirs, `get keypairs ${args.join(" ")}`);
      }
      const table = (await both([])).ours;
      assert.equal(table.split("\n")[0], "NAME\t\tID\t\t\t\tISSUED\t\tEXPIRES\t\tPRIMARY\tHASPRIVATE");
      assert.equal(table.split("\n").filter((l) => /\t\*\t\*$/.test(l)).length, 2, "two primaries (one per keyset), each with its key");

      for (const keyset of ["kubernetes-ca", "service-account"]) {
        const ours = await ks(["get", "keypairs", keyset, "--name", NAME, "-o", "yaml"]);
        const theirs = await kopsOut(["get", "keypairs", keyset, "--name", NAME, "-o", "yaml"]);
        assert.deepEqual(keypairList(ours.stdout), keypairList(theirs), `${keyset} -o yaml`);
        assert.ok(!/Material|PRIVATE KEY/.test(ours.stdout), "no key material printed");
        const json = await ks(["get", "keypairs", keyset, "--name", NAME, "-o", "json"]);
        assert.deepEqual(JSON.parse(json.stdout), JSON.parse(await kopsOut(["get", "keypairs", keyset, "--name", NAME, "-o", "json"])).sort((a: { id: string }, b: { id: string }) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)));
      }

      // kops changes what kstate wrote, and kstate's rewrite of the same keyset is kops's, byte for byte.
      const [oldest, newer] = (await ids("kubernetes-ca")).keys.map((k) => k.id);
      await kopsOut(["promote", "keypair", "kubernetes-ca", newer!, "--name", NAME]);
      const byKops = (await openWith(url, cloud).join(NAME, keysetFile("kubernetes-ca")).read()).data.toString();
      assert.equal(serializeKeyset(parseKeyset(byKops, "kops's")), byKops, "kstate writes kops's document back unchanged");
      assert.equal((await ks(["promote", "keypair", "kubernetes-ca", oldest!])).code, 0);
      assert.equal((await ks(["promote", "keypair", "kubernetes-ca", newer!])).code, 0);
      assert.equal((await openWith(url, cloud).join(NAME, keysetFile("kubernetes-ca")).read()).data.toString(), byKops, "the same keyset written by kstate and by kops: the same bytes");
    });

    it("keypairs kops writes are read, promoted, distrusted and trusted by kstate, and kops agrees", async function () {
      const a = await opensslCa(dir, "a", "ca-a");
      const b = await opensslCa(dir, "b", "ca-b");
      await kopsOut(["create", "keypair", "kubernetes-ca", "--cert", a.cert, "--key", a.key, "--primary", "--name", BY_KOPS]);
      await kopsOut(["create", "keypair", "kubernetes-ca", "--cert", b.cert, "--key", b.key, "--name", BY_KOPS]);
      let view = await both([], BY_KOPS);
      assert.equal(view.ours, view.theirs);
      const [idA, idB] = (await ids("kubernetes-ca", BY_KOPS)).keys.map((k) => k.id);

      const promoted = await ks(["promote", "keypair", "kubernetes-ca", idB!], BY_KOPS);
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, new RegExp(`~ primary ${idA} -> ${idB}\nPromoted kubernetes-ca ${idB}\n$`));
      view = await both([], BY_KOPS);
      assert.equal(view.ours, view.theirs);
      assert.match(view.theirs, new RegExp(`${idB}\t[^\n]*\t\\*\t\\*\n`), "kops sees the new primary");

      const distrusted = await ks(["distrust", "keypair", "kubernetes-ca", idA!], BY_KOPS);
      assert.equal(distrusted.code, 0, distrusted.stderr);
      view = await both(["--distrusted"], BY_KOPS);
      assert.equal(view.ours, view.theirs);
      assert.match(view.theirs, new RegExp(`${idA}\t\\S+\t\\S+\t\\d{4}-\\d\\d-\\d\\d\t`), "kops sees the distrust");
      assert.doesNotMatch((await both([], BY_KOPS)).theirs, new RegExp(idA!), "and leaves it out without --distrusted");
      assert.equal((await ks(["distrust", "keypair", "kubernetes-ca", idA!], BY_KOPS)).code, 4, "already distrusted: nothing to do");

      // kops keeps working on what kstate wrote.
      assert.match(await kopsOut(["promote", "keypair", "kubernetes-ca", "--name", BY_KOPS]), new RegExp(`No kubernetes-ca keypair newer than current primary ${idB}`));
      const trusted = await ks(["trust", "keypair", "kubernetes-ca", idA!], BY_KOPS);
      assert.equal(trusted.code, 0, trusted.stderr);
      view = await both([], BY_KOPS);
      assert.equal(view.ours, view.theirs);
      assert.match(view.theirs, new RegExp(idA!), "trusted again, kops lists it");
      await kopsOut(["distrust", "keypair", "kubernetes-ca", idA!, "--name", BY_KOPS]);
      view = await both(["--distrusted"], BY_KOPS);
      assert.equal(view.ours, view.theirs);
      assert.equal((await ks(["promote", "keypair", "kubernetes-ca"], BY_KOPS)).code, 4, "no newer trusted keypair: nothing to do, as kops says");
    });

    it("refuses bad input with a clear message and leaves the store byte-identical", async function () {
      const a = await opensslCa(dir, "bad-a", "bad-a");
      const b = await opensslCa(dir, "bad-b", "bad-b");
      const notPem = path.join(dir, "not.pem");
      fs.writeFileSync(notPem, "this is not PEM\n");
      const primary = (await ids("kubernetes-ca", BY_KOPS)).primaryId!;
      const before = await snapshot(openWith(url, cloud));
      const cases: [string[], RegExp][] = [
        [["create", "keypair", "kubernetes-ca", "--cert", a.cert, "--key", b.key], /bad-b\.key: this private key does not belong to the certificate in .*bad-a\.crt/],
        [["create", "keypair", "kubernetes-ca", "--cert", notPem, "--key", a.key], /not\.pem: no PEM CERTIFICATE block found/],
        [["create", "keypair", "kubernetes-ca", "--cert", a.cert, "--key", notPem], /not\.pem: no PEM private key block/],
        [["create", "keypair", "etcd-x", "--generate", "--primary"], /adding keypairs for "etcd-x" is not supported/],
        [["create", "keypair", "new-ca", "--cert", a.cert, "--key", a.key], /the first keypair added to a keyset must be primary/],
        [["promote", "keypair", "nosuch-ca"], /keyset "nosuch-ca" not found/],
        [["distrust", "keypair", "nosuch-ca", "1"], /keyset "nosuch-ca" not found/],
        [["promote", "keypair", "kubernetes-ca", "12345"], /keypair 12345 not found/],
        [["distrust", "keypair", "kubernetes-ca", primary], /cannot distrust the primary keypair/],
        [["trust", "keypair", "kubernetes-ca", "12345"], /keypair 12345 not found/],
      ];
      for (const [argv, message] of cases) {
        const r = await ks(argv, BY_KOPS);
        assert.equal(r.code, 1, `${argv.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message, argv.join(" "));
      }
      // kops refuses the same things the same way.
      await assert.rejects(kopsOut(["distrust", "keypair", "kubernetes-ca", primary, "--name", BY_KOPS]), /cannot distrust the primary keypair/);
      await assert.rejects(kopsOut(["promote", "keypair", "nosuch-ca", "--name", BY_KOPS]), /keyset not found/);
      await assert.rejects(kopsOut(["create", "keypair", "etcd-x", "--primary", "--name", BY_KOPS]), /adding keypair to "etcd-x" is not supported/);
      assert.equal((await ks(["promote", "keypair", "kubernetes-ca", "1", "2"], BY_KOPS)).code, 2, "usage");
      assert.equal((await kstate(["promote", "keypair", "kubernetes-ca", "--state", url], { env: cloud })).code, 2, "no cluster named");
      assert.deepEqual(await snapshot(openWith(url, cloud)), before, "nothing written");
    });

    it("a keyset under kops's legacy name (ca) is read as kubernetes-ca by both, and kstate's change goes under the new name", async function () {
      const legacyCluster = "legacy.k8s.example.com";
      assert.equal((await ks(["create", "cluster", legacyCluster, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2", "--state", url], legacyCluster)).code, 0);
      const kept = await ids("kubernetes-ca");
      const legacy = serializeKeyset({ ...kept, name: "ca" });
      await openWith(url, cloud).join(legacyCluster, keysetFile("ca")).create(legacy);
      let view = await both([], legacyCluster);
      assert.equal(view.ours, view.theirs);
      assert.match(view.ours, /^ca\t/m);
      const other = kept.keys.find((k) => k.id !== kept.primaryId && !k.distrustTimestamp && k.privateMaterial);
      assert.ok(other, "a trusted secondary keypair to promote");
      const promoted = await ks(["promote", "keypair", "kubernetes-ca", other.id], legacyCluster);
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, /create \(from legacy pki\/private\/ca\/keyset\.yaml, which stays\)/);
      assert.equal((await openWith(url, cloud).join(legacyCluster, keysetFile("ca")).read()).data.toString(), legacy);
      view = await both([], legacyCluster);
      assert.equal(view.ours, view.theirs);
      assert.match(view.theirs, new RegExp(`^kubernetes-ca\t+${other.id}\t[^\n]*\t\\*\t\\*$`, "m"), "kops lists the new keyset with its primary");
    });

    it("a change planned on one revision is a conflict when the keyset changed meanwhile; the other change stays", async function () {
      const store = new ClusterStore(openWith(url, cloud));
      const keyset = await ids("kubernetes-ca", BY_KOPS);
      const other = keyset.keys.find((k) => k.id !== keyset.primaryId && !k.distrustTimestamp);
      const target = other ?? keyset.keys.find((k) => k.id !== keyset.primaryId)!;
      if (target.distrustTimestamp) assert.equal((await ks(["trust", "keypair", "kubernetes-ca", target.id], BY_KOPS)).code, 0);
      const plan = await planPromoteKeypair(store, BY_KOPS, "kubernetes-ca", target.id);
      const c = await opensslCa(dir, "meanwhile", "meanwhile");
      assert.equal((await ks(["create", "keypair", "kubernetes-ca", "--cert", c.cert, "--key", c.key], BY_KOPS)).code, 0);
      const after = await snapshot(openWith(url, cloud));
      await assert.rejects((applyKeypairPlan(store, plan)), (e: unknown) => KstateError.isInstance(e) && ["PreconditionFailed", "Conflict"].includes(e.code));
      assert.deepEqual(await snapshot(openWith(url, cloud)), after, "the concurrent change is kept, nothing else written");
    });
  });
}
