import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { run } from "../../src/cli";
import { parseYaml } from "../../src/store/yaml";
import { decodeSecret, secretHash, storeEncryption } from "../../src/store/secrets";
import { hasVersions, isEnvelope, openPath, resolveStoreSettings } from "../../src/vfs";
import { kstate } from "../support/cli";
import { makeS3Bucket } from "../support/env";
import { memoryStore, openWith, versionedStores } from "../support/cli-stores";
import { s3Env } from "../support/stores";

const NAME = "history.k8s.example.com";
const IG = "instancegroup/nodes-us-east-1a";
const PASSPHRASE = "history test passphrase";
const CREATE = ["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b", "--kubernetes-version", "v1.30.2", "--cloud", "aws"];

const stores = { memfs: memoryStore, ...versionedStores };

interface Row {
  id: string;
  time: string;
  size: string;
  note: string;
}

/** `kstate history`'s table, newest first. */
function rowsOf(stdout: string): Row[] {
  const [header, ...lines] = stdout.trimEnd().split("\n");
  assert.match(header!, /^REVISION\s+TIME\s+SIZE$/);
  return lines.map((l) => {
    const [id, time, size, note] = l.split(/\s+/);
    return { id: id!, time: time!, size: size!, note: note ?? "" };
  });
}

const plainOf = (data: Buffer) => parseYaml(data.toString("utf8"), "test").toJS() as Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the CLI on a terminal whose user answers `answer` once the question shows, after `meanwhile`. */
async function onTerminal(argv: string[], env: Record<string, string>, answer: string, meanwhile: () => Promise<void> = async () => {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stdout = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = true;
  let out = "";
  let err = "";
  let asked: () => void = () => {};
  const question = new Promise<void>((resolve) => (asked = resolve));
  stdout.on("data", (c: Buffer) => {
    out += c.toString();
    if (out.includes("[y/N]")) asked();
  });
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const running = run(argv, { stdin, stdout, stderr, env });
  await Promise.race([question, running]);
  await meanwhile();
  stdin.write(`${answer}\n`);
  const code = await running;
  return { code, stdout: out, stderr: err };
}

for (const [kind, make] of Object.entries(stores)) {
  describe(`kstate history and rollback (${kind})`, function () {
    this.timeout(60_000);
    let url: string;
    let extra: Record<string, string>;
    let env: Record<string, string>;
    /** The cluster's folder, reached as the CLI reaches it. */
    const clusterOf = () => openWith(url, extra).join(NAME);
    const sealedClusterOf = () => openPath(url, { ...resolveStoreSettings({}, extra), clientSideEncryption: storeEncryption({ passphrase: PASSPHRASE }) }).join(NAME);
    const history = async (...args: string[]) => {
      const r = await kstate(["history", NAME, ...args], { env });
      assert.equal(r.code, 0, r.stderr);
      return rowsOf(r.stdout);
    };

    beforeEach(async function () {
      ({ url, env: extra } = await make());
      env = { ...extra, KOPS_STATE_STORE: url, KSTATE_PASSPHRASE: PASSPHRASE };
      const created = await kstate(CREATE, { env });
      assert.equal(created.code, 0, created.stderr);
    });

    it("three edits give four revisions, each with its time and size; rollback to the first makes its content current again, as a fifth", async function () {
      const config = clusterOf().join("config");
      const first = (await config.read()).data;
      for (const v of ["v1.30.3", "v1.30.4", "v1.30.5"]) {
        assert.equal((await kstate(["create", "cluster", NAME, "--kubernetes-version", v], { env })).code, 0);
      }
      const rows = await history();
      assert.equal(rows.length, 4);
      assert.deepEqual(rows.map((r) => r.note), ["current", "", "", ""]);
      assert.ok(hasVersions(config));
      const stored = await config.listVersions();
      assert.deepEqual(rows.map((r) => [r.id, r.size, r.time]), stored.map((v) => [v.versionId, String(v.size), v.modified.toISOString()]), "every revision with its stored size and time");

      const diff = await kstate(["history", NAME, "--diff", rows[3]!.id, rows[0]!.id], { env });
      assert.equal(diff.code, 0, diff.stderr);
      assert.match(diff.stdout, /^~ spec\.kubernetesVersion: "v1\.30\.2" -> "v1\.30\.5"$/m);

      const back = await kstate(["rollback", NAME, "--to", rows[3]!.id, "--yes"], { env });
      assert.equal(back.code, 0, back.stderr);
      assert.match(back.stdout, /config: ~ spec\.kubernetesVersion: "v1\.30\.5" -> "v1\.30\.2"/);
      const now = plainOf((await config.read()).data);
      const was = plainOf(first);
      const latest = plainOf((await config.readVersion(rows[0]!.id)).data);
      assert.equal(now.metadata.generation, (latest.metadata.generation ?? 0) + 1, "a spec change counts a generation, as kops counts it");
      assert.deepEqual({ ...now, metadata: { ...now.metadata, generation: undefined } }, { ...was, metadata: { ...was.metadata, generation: undefined } }, "otherwise the first revision's content");
      assert.equal((await history()).length, 5);
      assert.equal((await kstate(["rollback", NAME, "--to", rows[3]!.id, "--yes"], { env })).code, 4, "already so: nothing to do");
    });

    it("a deleted instance group is listed with its deletion and restored by rollback --to its last revision", async function () {
      const ig = clusterOf().join(IG);
      const last = (await ig.read()).data;
      const deleted = await kstate(["delete", "ig", "nodes-us-east-1a", "--name", NAME, "--yes"], { env });
      assert.equal(deleted.code, 0, deleted.stderr);
      const rows = await history("--file", IG);
      assert.equal(rows[0]!.note, "(deleted)", "the newest revision is the deletion");
      const revision = rows.find((r) => r.note !== "(deleted)")!;

      const back = await kstate(["rollback", NAME, "--file", IG, "--to", revision.id, "--yes"], { env });
      assert.equal(back.code, 0, back.stderr);
      assert.match(back.stdout, /instancegroup\/nodes-us-east-1a: create/);
      assert.ok((await ig.read()).data.equals(last), "the group's last revision, byte for byte");
      const after = await history("--file", IG);
      assert.equal(after[0]!.note, "current");
      assert.equal(after.length, rows.length + 1);
    });

    it("restoring a deleted group is a create only while it is still absent: another writer's group is never overwritten (exit 3)", async function () {
      const ig = clusterOf().join(IG);
      assert.equal((await kstate(["delete", "ig", "nodes-us-east-1a", "--name", NAME, "--yes"], { env })).code, 0);
      const revision = (await history("--file", IG)).find((r) => r.note !== "(deleted)")!;
      const theirs = (await kstate(["create", "ig", "nodes-us-east-1a", "--name", NAME, "--subnet", "us-east-1a", "--dry-run", "-o", "yaml"], { env })).stdout;
      const r = await onTerminal(["rollback", NAME, "--file", IG, "--to", revision.id], env, "y", async () => {
        await ig.create(theirs);
      });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /another writer/);
      assert.equal((await ig.read()).data.toString("utf8"), theirs, "the other writer's group stays");
    });

    it("rollback asks first: no terminal and no --yes is refused, `n` writes nothing", async function () {
      const config = clusterOf().join("config");
      assert.equal((await kstate(["create", "cluster", NAME, "--kubernetes-version", "v1.30.3"], { env })).code, 0);
      const before = (await config.read()).data;
      const oldest = (await history()).at(-1)!.id;
      const refused = await kstate(["rollback", NAME, "--to", oldest], { env });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /refusing to roll back without confirmation: pass --yes/);
      const no = await onTerminal(["rollback", NAME, "--to", oldest], env, "n");
      assert.equal(no.code, 1);
      assert.match(no.stdout, /Cancelled: nothing was written/);
      assert.ok((await config.read()).data.equals(before));
      const yes = await onTerminal(["rollback", NAME, "--to", oldest], env, "y");
      assert.equal(yes.code, 0, yes.stderr);
      assert.equal(plainOf((await config.read()).data).spec.kubernetesVersion, "v1.30.2");
    });

    it("secrets/ and pki/ files: history, diff by hash only, rollback through client-side encryption", async function () {
      const values = ["first secret value", "second secret value"];
      for (const [i, v] of values.entries()) {
        const made = await kstate(["create", "secret", "system:dns", "--cluster", NAME, "--from-literal", v, ...(i ? ["--replace"] : [])], { env });
        assert.equal(made.code, 0, made.stderr);
      }
      const secret = "secrets/system:dns";
      const rows = await history("--file", secret);
      assert.equal(rows.length, 2);
      const diff = await kstate(["history", NAME, "--file", secret, "--diff", rows[1]!.id, "current"], { env });
      assert.equal(diff.code, 0, diff.stderr);
      assert.equal(diff.stdout, `~ Data: "(sha256 ${secretHash(values[0]!)})" -> "(sha256 ${secretHash(values[1]!)})"\n`);
      const keyless = await kstate(["history", NAME, "--file", secret, "--diff", rows[1]!.id, "current"], { env: { ...extra, KOPS_STATE_STORE: url } });
      assert.equal(keyless.code, 1);
      assert.match(keyless.stderr, /opened without that key/);

      const back = await kstate(["rollback", NAME, "--file", secret, "--to", rows[1]!.id, "--yes"], { env });
      assert.equal(back.code, 0, back.stderr);
      const stored = clusterOf().join("secrets", "system:dns");
      assert.ok(isEnvelope((await stored.read()).data), "written sealed, as the store wants it");
      assert.equal(decodeSecret((await sealedClusterOf().join("secrets", "system:dns").read()).data.toString("utf8"), "test").toString(), values[0]);
      for (const out of [diff.stdout, back.stdout, back.stderr]) for (const v of values) assert.ok(!out.includes(v) && !out.includes(Buffer.from(v).toString("base64")), "no value is ever printed");

      const keyset = "pki/private/kubernetes-ca/keyset.yaml";
      const file = sealedClusterOf().join(...keyset.split("/"));
      await file.create("kind: Keyset\nkey: one\n");
      await file.write("kind: Keyset\nkey: two\n");
      const pkiRows = await history("--file", keyset);
      assert.equal(pkiRows.length, 2);
      const pkiDiff = await kstate(["history", NAME, "--file", keyset, "--diff", pkiRows[1]!.id, pkiRows[0]!.id], { env });
      assert.match(pkiDiff.stdout, /^~ sha256: "[0-9a-f]{16}" -> "[0-9a-f]{16}"\n$/);
      const pkiBack = await kstate(["rollback", NAME, "--file", keyset, "--to", pkiRows[1]!.id, "--yes"], { env });
      assert.equal(pkiBack.code, 0, pkiBack.stderr);
      assert.equal((await file.read()).data.toString(), "kind: Keyset\nkey: one\n");
      assert.ok(isEnvelope((await clusterOf().join(...keyset.split("/")).read()).data));
      assert.ok(!`${pkiDiff.stdout}${pkiBack.stdout}`.includes("key: "), "no keyset content printed");
    });

    it("--diff: added and removed fields as + and -, `current`, and a deleted file compared as empty", async function () {
      assert.equal((await kstate(["edit", "cluster", NAME, "--set", "spec.kubelet.maxPods=110"], { env })).code, 0);
      assert.equal((await kstate(["edit", "cluster", NAME, "--unset", "spec.kubelet.anonymousAuth"], { env })).code, 0);
      const rows = await history();
      const diff = await kstate(["history", NAME, "--diff", rows.at(-1)!.id, "current"], { env });
      assert.equal(diff.code, 0, diff.stderr);
      assert.doesNotMatch(diff.stdout, /undefined/);
      assert.match(diff.stdout, /^\+ spec\.kubelet\.maxPods: 110$/m);
      assert.match(diff.stdout, /^- spec\.kubelet\.anonymousAuth: false$/m);
      assert.match(diff.stdout, /^\+ metadata\.generation: 2$/m, "a field the first revision did not have is added");
      assert.equal(diff.stdout, (await kstate(["history", NAME, "--diff", rows.at(-1)!.id, rows[0]!.id], { env })).stdout, "`current` is the newest revision");

      assert.equal((await kstate(["delete", "ig", "nodes-us-east-1a", "--name", NAME, "--yes"], { env })).code, 0);
      const igRows = await history("--file", IG);
      const last = igRows.find((r) => r.note !== "(deleted)")!.id;
      const gone = await kstate(["history", NAME, "--file", IG, "--diff", last, "current"], { env });
      assert.equal(gone.code, 0, gone.stderr);
      const lines = gone.stdout.trimEnd().split("\n");
      assert.ok(lines.every((l) => l.startsWith("- ")), gone.stdout);
      assert.ok(lines.includes('- spec.role: "Node"'), gone.stdout);
      if (igRows[0]!.id !== "-") {
        const marker = await kstate(["history", NAME, "--file", IG, "--diff", igRows[0]!.id, last], { env });
        assert.equal(marker.code, 0, marker.stderr);
        assert.ok(marker.stdout.trimEnd().split("\n").every((l) => l.startsWith("+ ")), "from the delete marker: every field added");
      }
      const unknown = await kstate(["history", NAME, "--diff", "no-such-revision", "current"], { env });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no revision "no-such-revision"/);
    });

    it("a file that never existed, and a file history does not cover, are errors naming the file", async function () {
      const never = await kstate(["history", NAME, "--file", "instancegroup/never-there"], { env });
      assert.equal(never.code, 1);
      assert.match(never.stderr, /instancegroup\/never-there of cluster history\.k8s\.example\.com never existed/);
      for (const [file, message] of [
        ["addons/bootstrap-channel.yaml", /--file addons\/bootstrap-channel\.yaml: kstate keeps the history of config, instancegroup\/<name>, secrets\/<name> and pki\/<path>/],
        ["secrets/bad/name", /--file secrets\/bad\/name: a secret's name is/],
        ["instancegroup/Upper", /--file instancegroup\/Upper: an instance group's name is a DNS label/],
      ] as const) {
        const r = await kstate(["history", NAME, "--file", file], { env });
        assert.equal(r.code, 2, `${file}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal((await kstate(["rollback", NAME, "--file", file, "--to", "x", "--yes"], { env })).code, 2);
      }
    });

    it("rollback --to-time: every document as it was then, as one plan; pki/ only with --include-pki", async function () {
      const cluster = clusterOf();
      assert.equal((await kstate(["create", "secret", "kube", "--cluster", NAME, "--from-literal", "kube then"], { env })).code, 0);
      const keyset = sealedClusterOf().join("pki", "private", "ca", "keyset.yaml");
      await keyset.create("key: then\n");
      const groupsThen = (await cluster.join("instancegroup").list()).map((f) => f.path).sort();
      const configThen = plainOf((await cluster.join("config").read()).data);
      // The point in time by the store's own clock: the newest version written so far.
      assert.ok(hasVersions(cluster));
      const then = new Date(Math.max(...(await cluster.listTreeVersions()).map((v) => v.modified.getTime())));
      await sleep(200);

      assert.equal((await kstate(["create", "cluster", NAME, "--kubernetes-version", "v1.30.9"], { env })).code, 0);
      assert.equal((await kstate(["delete", "ig", "nodes-us-east-1b", "--name", NAME, "--yes"], { env })).code, 0);
      assert.equal((await kstate(["create", "ig", "extra", "--name", NAME, "--subnet", "us-east-1a"], { env })).code, 0);
      assert.equal((await kstate(["create", "secret", "kube", "--cluster", NAME, "--from-literal", "kube now", "--replace"], { env })).code, 0);
      assert.equal((await kstate(["create", "secret", "later", "--cluster", NAME, "--from-literal", "made later"], { env })).code, 0);
      await keyset.write("key: now\n");
      await sealedClusterOf().join("pki", "issued", "later", "keyset.yaml").create("cert: later\n");

      const at = then.toISOString();
      const refused = await kstate(["rollback", NAME, "--to-time", at], { env });
      assert.equal(refused.code, 2, "asks first");
      assert.match(refused.stdout, /config: ~ spec\.kubernetesVersion: "v1\.30\.9" -> "v1\.30\.2"/);
      assert.doesNotMatch(refused.stdout, /pki\//, "pki/ left alone without --include-pki");

      const back = await kstate(["rollback", NAME, "--to-time", at, "--yes"], { env });
      assert.equal(back.code, 0, back.stderr);
      for (const line of [
        /config: ~ spec\.kubernetesVersion: "v1\.30\.9" -> "v1\.30\.2"/, /instancegroup\/nodes-us-east-1b: create/, /instancegroup\/extra: delete/,
        /secrets\/kube: ~ Data: "\(sha256 [0-9a-f]{16}\)" -> "\(sha256 [0-9a-f]{16}\)"/, /secrets\/later: delete/,
      ]) assert.match(back.stdout, line);
      assert.ok(!/kube then|kube now|made later/.test(back.stdout));
      assert.deepEqual((await cluster.join("instancegroup").list()).map((f) => f.path).sort(), groupsThen);
      const configNow = plainOf((await cluster.join("config").read()).data);
      assert.deepEqual(configNow.spec, configThen.spec);
      assert.deepEqual((await cluster.join("secrets").list()).map((f) => f.path), ["kube"]);
      assert.equal(decodeSecret((await sealedClusterOf().join("secrets", "kube").read()).data.toString("utf8"), "test").toString(), "kube then");
      assert.equal((await keyset.read()).data.toString(), "key: now\n", "pki/ untouched");
      assert.equal((await kstate(["rollback", NAME, "--to-time", at, "--yes"], { env })).code, 4, "every document already as then");

      const pki = await kstate(["rollback", NAME, "--to-time", at, "--include-pki", "--yes"], { env });
      assert.equal(pki.code, 0, pki.stderr);
      assert.match(pki.stdout, /pki\/private\/ca\/keyset\.yaml: ~ sha256/);
      assert.match(pki.stdout, /pki\/issued\/later\/keyset\.yaml: delete/);
      assert.equal((await keyset.read()).data.toString(), "key: then\n");
      assert.ok(isEnvelope((await cluster.join("pki", "private", "ca", "keyset.yaml").read()).data), "sealed again");
      assert.deepEqual(await cluster.join("pki", "issued").listTree(), []);
      assert.equal((await kstate(["rollback", NAME, "--to-time", at, "--include-pki", "--yes"], { env })).code, 4);

      const first = (await cluster.listTreeVersions()).filter((v) => v.path === "config").at(-1)!.modified;
      const before = await kstate(["rollback", NAME, "--to-time", new Date(first.getTime() - 60_000).toISOString(), "--yes"], { env });
      assert.equal(before.code, 1);
      assert.match(before.stderr, /cluster history\.k8s\.example\.com did not exist in .* at .*first written at/);
      const bad = await kstate(["rollback", NAME, "--to-time", "yesterday", "--yes"], { env });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /give an RFC 3339 time with its zone/);
    });
  });
}

describe("kstate history without versions", function () {
  it("a file:// store has no history, and says why", async function () {
    const url = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-hist-"))}`;
    await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", url]);
    for (const argv of [["history", NAME], ["rollback", NAME, "--to", "x", "--yes"], ["rollback", NAME, "--to-time", "2026-11-20T10:00:00Z", "--yes"]]) {
      const r = await kstate([...argv, "--state", url]);
      assert.equal(r.code, 1, argv.join(" "));
      assert.match(r.stderr, /keeps no old versions \(file:\/\/ stores never do\)/);
    }
  });

  it("a bucket with versioning off: rollback refuses, saying how to turn it on", async function () {
    const url = `s3://${await makeS3Bucket()}`;
    const env = s3Env();
    assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", url], { env })).code, 0);
    for (const argv of [["rollback", NAME, "--to", "x", "--yes"], ["rollback", NAME, "--to-time", "2026-11-20T10:00:00Z", "--yes"]]) {
      const r = await kstate([...argv, "--state", url], { env });
      assert.equal(r.code, 1, argv.join(" "));
      assert.match(r.stderr, /versioning is off.*Turn it on/s);
    }
  });

  it("rollback takes --to or --to-time, one of them", async function () {
    for (const [argv, message] of [
      [["rollback", NAME, "--yes"], /give --to REV .* or --to-time TIME/],
      [["rollback", NAME, "--to", "x", "--to-time", "2026-11-20T10:00:00Z"], /give --to REV .* or --to-time TIME/],
      [["rollback", NAME, "--to-time", "2026-11-20T10:00:00Z", "--file", "config"], /--file goes with --to REV/],
      [["rollback", NAME, "--to", "x", "--include-pki"], /--include-pki goes with --to-time/],
    ] as const) {
      const r = await kstate([...argv, "--state", "memfs://unused"]);
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.stderr, message);
    }
  });
});
