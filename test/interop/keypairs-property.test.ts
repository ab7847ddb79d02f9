/**
 * A seeded random run of keypair changes on one store, by kstate and now and then by kops: import,
 * generate, promote, distrust, trust, good and bad. After every step kops's `get keypairs
 * --distrusted` prints what kstate's prints, every keyset holds kops's invariants (a primary that
 * is trusted and has its certificate and key; the file as kstate would write it), a refused step
 * wrote nothing, and what was accepted or refused is what the rules say.
 * KSTATE_PROPERTY_SEED=n replays a run.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { findPrimary, type Keyset, keysetFile, parseKeyset, serializeKeyset } from "../../src/store/keyset";
import { openPath } from "../../src/vfs";
import { NotFoundError } from "../../src/vfs/errors";
import { kstate } from "../support/cli";
import { kops, kopsEnv } from "../support/kops";
import { Rng } from "../support/kops-documents";
import { opensslCa } from "../support/keypairs";
import { snapshot } from "../support/snapshot";

const NAME = "prop.k8s.example.com";
const KEYSETS = ["kubernetes-ca", "service-account"] as const;
const SEED = Number(process.env.KSTATE_PROPERTY_SEED ?? 20261129);
const STEPS = 36;

describe(`keypairs: a seeded random run of changes, kops agreeing after each step (seed ${SEED})`, function () {
  this.timeout(600_000);

  it("keeps kops's view, kstate's view and the keyset invariants together", async function () {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pki-prop-"));
    const url = `file://${root}/store`;
    const rng = new Rng(SEED);
    const certs = await Promise.all(Array.from({ length: 6 }, (_, i) => opensslCa(root, `pool${i}`, `pool-${i}`)));
    assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2", "--state", url])).code, 0);
    const ks = (argv: string[]) => kstate([...argv, "--name", NAME, "--state", url]);
    const read = async (keyset: string): Promise<{ keyset: Keyset; text: string } | undefined> => {
      try {
        const text = (await openPath(url).join(NAME, keysetFile(keyset)).read()).data.toString();
        return { keyset: parseKeyset(text, keyset), text };
      } catch (e) {
        if (NotFoundError.isInstance(e)) return undefined;
        throw e;
      }
    };
    const counts = { accepted: 0, refused: 0, nothing: 0, kops: 0 };

    for (let step = 0; step < STEPS; step++) {
      const keyset = rng.pick(KEYSETS);
      const current = await read(keyset);
      const ids = current?.keyset.keys.map((k) => k.id) ?? [];
      const primary = current ? findPrimary(current.keyset)?.id : undefined;
      const anyId = () => (ids.length > 0 && rng.chance(0.85) ? rng.pick(ids) : "4242");
      const before = await snapshot(openPath(url));
      const where = `seed ${SEED} step ${step}`;
      let described: string;
      // What the rules say about the step: refused (1), nothing to do (4), written (0); undefined: either of 0 or 4.
      let expect: number | undefined;
      const roll = rng.int(0, 9);
      let code: number;
      if (roll <= 1 || !current) {
        const c = rng.pick(certs);
        const primaryFlag = !current || rng.chance(0.4);
        const argv = rng.chance(0.5) ? ["create", "keypair", keyset, "--generate"] : ["create", "keypair", keyset, "--cert", c.cert, "--key", c.key];
        if (primaryFlag) argv.push("--primary");
        described = argv.join(" ");
        expect = argv.includes("--generate") ? 0 : undefined;
        code = (await ks(argv)).code;
      } else if (roll === 2) {
        const id = anyId();
        described = `promote ${keyset} ${id}`;
        const item = current.keyset.keys.find((k) => k.id === id);
        expect = !item || item.distrustTimestamp ? 1 : id === primary ? 4 : 0;
        code = (await ks(["promote", "keypair", keyset, id])).code;
      } else if (roll === 3) {
        described = `promote ${keyset} (newest)`;
        code = (await ks(["promote", "keypair", keyset])).code;
      } else if (roll <= 5) {
        const id = rng.chance(0.25) && primary ? primary : anyId();
        described = `distrust ${keyset} ${id}`;
        const item = current.keyset.keys.find((k) => k.id === id);
        expect = id === primary || !item ? 1 : item.distrustTimestamp ? 4 : 0;
        code = (await ks(["distrust", "keypair", keyset, id])).code;
      } else if (roll <= 7) {
        const id = anyId();
        described = `trust ${keyset} ${id}`;
        const item = current.keyset.keys.find((k) => k.id === id);
        expect = !item ? 1 : item.distrustTimestamp ? 0 : 4;
        code = (await ks(["trust", "keypair", keyset, id])).code;
      } else {
        // kops itself changes the keyset kstate keeps.
        const other = ids.filter((id) => id !== primary && !current.keyset.keys.find((k) => k.id === id)!.distrustTimestamp);
        counts.kops++;
        if (roll === 8 && other.length > 0) {
          const id = rng.pick(other);
          described = `kops distrust ${keyset} ${id}`;
          await kops(["distrust", "keypair", keyset, id, "--name", NAME, "--state", url], kopsEnv());
        } else {
          described = `kops promote ${keyset} (newest)`;
          await kops(["promote", "keypair", keyset, "--name", NAME, "--state", url], kopsEnv());
        }
        code = 0;
      }
      assert.ok([0, 1, 4].includes(code), `${where}: ${described}: exit ${code}`);
      if (expect !== undefined) assert.equal(code, expect, `${where}: ${described}`);
      else if (code === 1) assert.fail(`${where}: ${described} was refused`);
      if (code === 0) counts.accepted++;
      else if (code === 1) counts.refused++;
      else counts.nothing++;
      if (code !== 0) assert.deepEqual(await snapshot(openPath(url)), before, `${where}: ${described} (exit ${code}) wrote nothing`);

      for (const name of KEYSETS) {
        const got = await read(name);
        if (!got) continue;
        const p = got.keyset.keys.find((k) => k.id === got.keyset.primaryId);
        assert.ok(p, `${where}: ${name} has its primary ${got.keyset.primaryId}`);
        assert.equal(p.distrustTimestamp, undefined, `${where}: ${name}'s primary is trusted`);
        assert.ok(p.publicMaterial && p.privateMaterial, `${where}: ${name}'s primary has certificate and key`);
        assert.equal(findPrimary(got.keyset)?.id, p.id, `${where}: kops finds the same primary`);
        for (const k of got.keyset.keys) assert.ok(new X509Certificate(k.publicMaterial!).checkPrivateKey(createPrivateKey(k.privateMaterial!)), `${where}: ${name} key ${k.id} is its certificate's`);
        assert.equal(serializeKeyset(got.keyset), got.text, `${where}: ${name} is written as kops writes it`);
      }
      const ours = await ks(["get", "keypairs", "--distrusted"]);
      assert.equal(ours.code, 0, `${where}: ${ours.stderr}`);
      const theirs = await kops(["get", "keypairs", "--distrusted", "--name", NAME, "--state", url], kopsEnv());
      assert.equal(ours.stdout, theirs.stdout, `${where}: after ${described}, kops and kstate list the same`);
    }
    // The run did exercise every outcome.
    assert.ok(counts.accepted > 5 && counts.refused > 0 && counts.nothing > 0 && counts.kops > 0, JSON.stringify(counts));
  });
});
