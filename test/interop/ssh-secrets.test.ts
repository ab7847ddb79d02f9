/**
 * The admin SSH key and kops's typed secrets, both ways with the real kops v1.36.2 on file:// and
 * MinIO: what kstate writes kops lists and reads (the same tables, the same YAML, the same bytes as
 * kops itself stores), and what kops writes kstate lists, reads and deletes, kops agreeing after.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { kops, kopsEnv } from "../support/kops";
import { storesOf } from "../support/stores";
import { snapshot } from "../support/snapshot";
import { Rng } from "../support/kops-documents";
import { seededKey } from "../support/ssh-keys";

const stores = storesOf("file", "s3");

const ED = seededKey(1701, "ssh-ed25519", "admin@example.com");
// A long comment, so kops's YAML folds the line: kstate must fold it at the same place.
const RSA = seededKey(1702, "ssh-rsa", "a long comment that makes the YAML line fold twice over the eighty column mark");

const DOCKER = `{"auths":{"registry.example.com":{"auth":"${Buffer.from("robot:hunter2").toString("base64")}"}}}\n`;
const ENCRYPTION = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: ${Buffer.alloc(32, 7).toString("base64")}
      - identity: {}
`;
const CILIUM = `keys: 3+ rfc4106(gcm(aes)) ${"0123456789abcdef0123456789abcdef01234567"} 128\n`;
const TYPED: Record<string, string> = { dockerconfig: DOCKER, encryptionconfig: ENCRYPTION, ciliumpassword: CILIUM };

function tmpFile(name: string, text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kstate-ssh-in-")), name);
  fs.writeFileSync(file, text);
  return file;
}

async function kopsFails(args: string[]): Promise<string> {
  try {
    await kops(args, kopsEnv());
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`kops ${args.join(" ")} succeeded`);
}

async function files(root: VfsPath, cluster: string, folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await root.join(cluster, ...folder.split("/")).list()) out[f.path] = (await root.join(cluster, ...folder.split("/"), f.path).read()).data.toString("utf8");
  return out;
}

/** Two clusters in the store at `url`: one kstate writes the keys of, one kops does. */
async function twoClusters(url: string, cloud: Record<string, string>): Promise<{ env: Record<string, string>; root: VfsPath; A: string; B: string }> {
  const env = { ...cloud, KOPS_STATE_STORE: url };
  const [A, B] = ["ours.k8s.example.com", "theirs.k8s.example.com"] as const;
  for (const c of [A, B]) assert.equal((await kstate(["create", "cluster", c, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2"], { env })).code, 0);
  return { env, root: openWith(url, cloud), A, B };
}

for (const [kind, make] of Object.entries(stores)) {
  describe(`admin SSH keys and typed secrets with the real kops (${kind})`, function () {
    this.timeout(240_000);

    it("SSH keys kstate writes are kops's, byte for byte; those kops writes kstate lists and deletes", async function () {
      const { url, env: cloud } = await make();
      const { env, root, A, B } = await twoClusters(url, cloud);
      const ed = tmpFile("id_ed25519.pub", ED.text);
      const rsa = tmpFile("id_rsa.pub", RSA.text);

      // kstate writes, kops writes the same key to the other cluster: the same file, the same bytes.
      const made = await kstate(["create", "sshpublickey", "--name", A, "-i", ed], { env });
      assert.equal(made.code, 0, made.stderr);
      await kops(["create", "sshpublickey", B, "--ssh-public-key", ed, "--state", url]);
      assert.deepEqual(await files(root, A, "pki/ssh/public/admin"), { [ED.md5.replace(/:/g, "")]: ED.text });
      assert.deepEqual(await files(root, B, "pki/ssh/public/admin"), await files(root, A, "pki/ssh/public/admin"));

      const compare = async (cluster: string) => {
        for (const o of [[], ["-o", "yaml"]]) {
          const ours = await kstate(["get", "sshpublickeys", "--name", cluster, ...o], { env });
          const theirs = await kops(["get", "sshpublickeys", "--name", cluster, ...o, "--state", url]);
          assert.equal(ours.code, 0, ours.stderr);
          assert.equal(ours.stdout, theirs.stdout, `get sshpublickeys ${o.join(" ")}`);
        }
        const json = await kstate(["get", "sshpublickeys", cluster, "-o", "json"], { env });
        assert.equal(json.stdout, (await kops(["get", "sshpublickeys", "--name", cluster, "-o", "json", "--state", url])).stdout, "kops's compact JSON, byte for byte");
      };
      await compare(A);
      assert.equal((await kstate(["get", "sshpublickeys", "--name", A], { env })).stdout, `ID\n${ED.md5}\n`);

      // Another key: refused as it stands (kops would add a second and fail later), replaced with --replace.
      const before = await snapshot(root);
      const refused = await kstate(["create", "sshpublickey", "--name", A, "-i", rsa], { env });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`another admin SSH key \\(${ED.md5}\\); kops takes exactly one\\. Pass --replace`));
      assert.deepEqual(await snapshot(root), before, "nothing written");
      const replaced = await kstate(["create", "sshpublickey", "--name", A, "-i", "-", "--replace"], { env, input: RSA.text });
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.deepEqual(await files(root, A, "pki/ssh/public/admin"), { [RSA.md5.replace(/:/g, "")]: RSA.text });
      await compare(A);
      assert.match((await kstate(["get", "sshpublickeys", "--name", A, "-o", "yaml"], { env })).stdout, /\n {4}\S/, "the long key folds, as kops folds it");

      // kops adds a second key beside the first (its way); kstate lists both as kops does, and deletes both.
      await kops(["create", "sshpublickey", "--name", B, "-i", rsa, "--state", url]);
      await compare(B);
      assert.equal((await kstate(["get", "sshpublickeys", "--name", B], { env })).stdout, table2(ED.md5, RSA.md5));
      const del = await kstate(["delete", "sshpublickey", "--name", B, "--yes"], { env });
      assert.equal(del.code, 0, del.stderr);
      assert.match(await kopsFails(["get", "sshpublickeys", "--name", B, "--state", url]), /no SSH public key found/);
      const none = await kstate(["get", "sshpublickeys", "--name", B], { env });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no SSH public key found/);
      assert.equal((await kstate(["delete", "sshpublickey", "--name", B, "--yes"], { env })).code, 4, "nothing left to delete");

      // A file there that holds no key: kops lists it with an empty ID, and so does kstate, naming it and exiting 1.
      await root.join(A, "pki", "ssh", "public", "admin", "zz").create("not a key\n");
      for (const o of [[], ["-o", "yaml"]]) {
        const ours = await kstate(["get", "sshpublickeys", "--name", A, ...o], { env });
        assert.equal(ours.code, 1);
        assert.match(ours.stderr, /pki\/ssh\/public\/admin\/zz: not an OpenSSH public key/);
        assert.equal(ours.stdout, (await kops(["get", "sshpublickeys", "--name", A, ...o, "--state", url])).stdout, `a file that is no key, ${o.join(" ")}`);
      }

      // kops deletes what kstate wrote; kstate agrees.
      await kops(["delete", "sshpublickey", "--name", A, "--state", url]);
      assert.equal((await kstate(["get", "sshpublickeys", "--name", A], { env })).code, 1);
    });

    it("typed secrets kstate writes are stored as kops stores them and read by kops; those kops writes kstate reads and deletes", async function () {
      const { url, env: cloud } = await make();
      const { env, root, A, B } = await twoClusters(url, cloud);
      for (const [name, text] of Object.entries(TYPED)) {
        const file = tmpFile(name, text);
        // kstate from stdin for one, from a file for the others; kops from the file.
        const ours = name === "encryptionconfig"
          ? await kstate(["create", "secret", name, "--name", A, "-f", "-"], { env, input: text })
          : await kstate(["create", "secret", name, "--name", A, "-f", file], { env });
        assert.equal(ours.code, 0, `${name}: ${ours.stderr}`);
        await kops(["create", "secret", name, "--name", B, "-f", file, "--state", url]);
      }
      assert.deepEqual(await files(root, A, "secrets"), await files(root, B, "secrets"), "byte for byte what kops stores");
      assert.deepEqual(JSON.parse((await files(root, A, "secrets")).dockerconfig!), { Data: Buffer.from(DOCKER).toString("base64") });

      for (const c of [A, B]) {
        // kops's table is the names; kstate's adds a hash column, with the same names in the same order.
        const theirs = (await kops(["get", "secrets", "--name", c, "--state", url])).stdout;
        assert.equal(theirs, "NAME\nciliumpassword\ndockerconfig\nencryptionconfig\n");
        const ours = await kstate(["get", "secrets", "--name", c], { env });
        assert.equal(ours.code, 0, ours.stderr);
        assert.deepEqual(ours.stdout.trim().split("\n").map((l) => l.split("\t")[0]), theirs.trim().split("\n"));
        assert.ok(!ours.stdout.includes("hunter2") && !ours.stdout.includes(Buffer.from("robot:hunter2").toString("base64")), "no value without --reveal");
        // Values: kops's -o plaintext and kstate's, and kstate's --reveal.
        assert.equal((await kstate(["get", "secrets", "--name", c, "-o", "plaintext"], { env })).stdout, (await kops(["get", "secrets", "--name", c, "-o", "plaintext", "--state", url])).stdout);
        const revealed = JSON.parse((await kstate(["get", "secrets", "--name", c, "--reveal", "-o", "json"], { env })).stdout) as { name: string; value: string }[];
        assert.deepEqual(Object.fromEntries(revealed.map((r) => [r.name, r.value])), TYPED);
      }

      // Replacing: refused without --force, as kops refuses; with it, kops reads the new value.
      const other = tmpFile("other.json", '{"auths":{}}\n');
      const before = await snapshot(root);
      const clash = await kstate(["create", "secret", "dockerconfig", "--name", B, "-f", other], { env });
      assert.equal(clash.code, 3);
      assert.match(clash.stderr, /holds a different value; pass --force/);
      assert.match(await kopsFails(["create", "secret", "dockerconfig", "--name", B, "-f", other, "--state", url]), /already exists\. Pass the `--force` flag/);
      assert.deepEqual(await snapshot(root), before);
      assert.equal((await kstate(["create", "secret", "dockerconfig", "--name", B, "-f", other, "--force"], { env })).code, 0);
      assert.equal((await kops(["get", "secrets", "dockerconfig", "--name", B, "-o", "plaintext", "--state", url])).stdout, '{"auths":{}}\n\n');
      assert.equal((await kstate(["create", "secret", "dockerconfig", "--name", B, "-f", other, "--force"], { env })).code, 4, "the same value: nothing to do");

      // kstate deletes what kops wrote; kops agrees. kops deletes what kstate wrote; kstate agrees.
      const del = await kstate(["delete", "secret", "ciliumpassword", "--name", B, "--yes"], { env });
      assert.equal(del.code, 0, del.stderr);
      assert.equal((await kops(["get", "secrets", "--name", B, "--state", url])).stdout, "NAME\ndockerconfig\nencryptionconfig\n");
      await kops(["delete", "secret", "encryptionconfig", "--name", A, "--state", url]);
      assert.deepEqual(JSON.parse((await kstate(["get", "secrets", "--name", A, "-o", "json"], { env })).stdout).map((r: { name: string }) => r.name), ["ciliumpassword", "dockerconfig"]);
      const gone = await kstate(["delete", "secret", "encryptionconfig", "--name", A, "--yes"], { env });
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /secret "encryptionconfig" of ours\.k8s\.example\.com not found/);
    });
  });
}

/** kops's ID table with two keys, in its order (sorted). */
function table2(a: string, b: string): string {
  return `ID\n${[a, b].sort().join("\n")}\n`;
}

describe("get sshpublickeys -o yaml prints what kops prints, for seeded keys and comments", function () {
  this.timeout(240_000);

  it("folds long lines and quotes odd comments as kops's YAML does (24 seeded keys and 7 odd comments)", async function () {
    const url = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-ssh-yaml-"))}`;
    const env = { KOPS_STATE_STORE: url };
    const name = "yaml.k8s.example.com";
    assert.equal((await kstate(["create", "cluster", name, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2"], { env })).code, 0);
    const seed = 20261130;
    const rng = new Rng(seed);
    const plainChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-";
    const oddChars = `:#'"!&*%{}[],|>? `;
    for (let i = 0; i < 24; i++) {
      const words = Array.from({ length: rng.int(0, 8) }, () => Array.from({ length: rng.int(1, 14) }, () => (rng.chance(0.08) ? rng.pick([...oddChars]) : rng.pick([...plainChars]))).join(""));
      const comment = words.join(rng.chance(0.2) ? "  " : " ").trim();
      const key = seededKey(seed + i, rng.chance(0.5) ? "ssh-ed25519" : "ssh-rsa", comment);
      await kops(["create", "sshpublickey", "--name", name, "-i", tmpFile(`k${i}.pub`, key.text), "--state", url]);
    }
    // Comments that take YAML's quoted styles: single quotes for ": " and " #", double for a tab or a bell.
    const odd = ["role: admin", "x #tag", "it's: quoted 'twice' and long enough to fold past the eighty column mark, twice over and more",
      "tab\tinside", "tab\tand \"quote\" and back\\slash and  double spaces and a long tail past eighty columns again and again", "bell\x07 é", "ünïcødé plain and long enough to fold past the eighty column mark, twice over and more"];
    for (const [i, comment] of odd.entries()) {
      await kops(["create", "sshpublickey", "--name", name, "-i", tmpFile(`odd${i}.pub`, seededKey(seed + 100 + i, i % 2 ? "ssh-rsa" : "ssh-ed25519", comment).text), "--state", url]);
    }
    const theirs = (await kops(["get", "sshpublickeys", "--name", name, "-o", "yaml", "--state", url])).stdout;
    assert.match(theirs, /publicKey: '/, "single-quoted cases are there");
    assert.match(theirs, /publicKey: "/, "double-quoted cases are there");
    const ours = await kstate(["get", "sshpublickeys", "--name", name, "-o", "yaml"], { env });
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(ours.stdout, theirs, `seed ${seed}`);
    assert.equal((await kstate(["get", "sshpublickeys", "--name", name], { env })).stdout, (await kops(["get", "sshpublickeys", "--name", name, "--state", url])).stdout);
  });
});
