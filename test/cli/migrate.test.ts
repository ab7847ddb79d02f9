import * as assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { openPath, resetMemoryStore, type VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { s3Env } from "../support/stores";

const CLUSTER = "cli.k8s.example.com";
const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "kstate.js");
const CONFIG = `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  configBase: old\n  kubernetesVersion: v1.30.2\n`;

async function populate(folder: VfsPath, files: number, concurrency = 32): Promise<void> {
  await folder.join("config").write(CONFIG);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < files) {
      const i = next++;
      const where = i % 4 === 0 ? `secrets/token:${i}` : i % 4 === 1 ? `pki/private/key-${i}/keyset.yaml` : i % 4 === 2 ? `backups/etcd/main/${i}` : `addons/addon-${i}.addons.k8s.io/k8s-1.16.yaml`;
      await folder.join(where).write(randomBytes(200 + ((i * 7919) % 20_000)));
    }
  }));
}

function countFiles(folder: string): number {
  try {
    return fs.readdirSync(folder, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  } catch {
    return 0;
  }
}

async function hashes(folder: VfsPath): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await folder.listTree()) out.set(f.path, createHash("sha256").update((await folder.join(f.path).read()).data).digest("hex"));
  return out;
}

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

function memStore(): string {
  const n = uniqueName("mem");
  resetMemoryStore(n);
  return `memfs://${n}`;
}

describe("kstate migrate", function () {
  this.timeout(300_000);

  it("--dry-run shows the plan and writes nothing", async function () {
    const from = memStore();
    const to = memStore();
    await populate(openPath(from).join(CLUSTER), 10);
    const r = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /copy 11 of 11 files/);
    assert.match(r.stdout, /Dry run: nothing was written/);
    assert.deepEqual(await openPath(to).listTree(), []);
  });

  it("refuses (exit 2) a destination inside the source's cluster folder, a source inside the destination's, and the same store; nothing written", async function () {
    const from = memStore();
    await populate(openPath(from).join(CLUSTER), 3);
    const before = await hashes(openPath(from));
    for (const [source, destination, said] of [
      [from, `${from}/${CLUSTER}`, /--to: the destination .* lies inside the source's cluster folder/],
      [`${from}/${CLUSTER}`, from, /--to: the source .* lies inside the destination's cluster folder/],
      [from, from, /--from and --to are the same store/],
    ] as const) {
      const r = await kstate(["migrate", CLUSTER, "--from", source, "--to", destination, "--yes", "--delete-source"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, said);
    }
    assert.deepEqual(await hashes(openPath(from)), before);
  });

  it("asks before writing; no answer means no; --yes migrates; a second run has nothing to do (exit 4)", async function () {
    const from = memStore();
    const to = memStore();
    await populate(openPath(from).join(CLUSTER), 10);
    const declined = await kstate(["migrate", CLUSTER, "--from", from, "--to", to], { tty: true, input: "n\n" });
    assert.equal(declined.code, 1);
    assert.match(declined.stdout, /Proceed\? \[y\/N\] Cancelled: nothing was written/);
    assert.deepEqual(await openPath(to).listTree(), []);
    const piped = await kstate(["migrate", CLUSTER, "--from", from, "--to", to]);
    assert.equal(piped.code, 2, "no terminal and no --yes is a usage error");
    assert.match(piped.stderr, /pass --yes/);
    const accepted = await kstate(["migrate", CLUSTER, "--from", from, "--to", to], { tty: true, input: "y\n" });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(plain(accepted.stdout), /Migrated cli\.k8s\.example\.com: 11 file\(s\) copied/);
    const again = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--yes"]);
    assert.equal(again.code, 4);
    assert.match(again.stdout, /copy 0 of 11 files/);
  });

  it("--delete-source waits for an update against the new store: the dry run says so, the run copies, verifies and exits 1 keeping the source; after the update the source goes and the destination's newer files stay", async function () {
    const from = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-last-src-"))}`;
    const to = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-last-dst-"))}`;
    const source = openPath(from).join(CLUSTER);
    const destination = openPath(to).join(CLUSTER);
    await populate(source, 10);
    const before = await hashes(source);
    const missing = `no update ran against the new store yet: there is no ${to}/${CLUSTER}/cluster-completed.spec`;
    const update = `kops update cluster ${CLUSTER} --yes --state ${to}`;

    // The dry run of a run that would fail fails too (exit 1), writing nothing.
    const dry = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--delete-source", "--dry-run"]);
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing was written; the run would copy and then fail, keeping the source \(above\)\.\n$/);
    assert.equal((await destination.listTree()).length, 0);
    assert.ok(dry.stdout.includes(`  the source will be kept, and the run fails after the copy: ${missing}\n  run \`${update}\` (or \`kstate update cluster ${CLUSTER} --yes --state ${to}\`) first, then migrate again with --delete-source\n`), dry.stdout);
    assert.doesNotMatch(dry.stdout, /then delete/);

    const refused = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--delete-source", "--yes"]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.slice(refused.stderr.indexOf("kstate migrate:")), `kstate migrate: migrate ${source.url} -> ${destination.url}: copied and verified; the source is kept until the cluster has been updated against the new store, and ${missing}. Run \`${update}\` (or \`kstate update cluster ${CLUSTER} --yes --state ${to}\`, or a ClusterUpdate resource on the new store), and then migrate again with --delete-source\n`);
    assert.deepEqual(await hashes(source), before, "the source is untouched");
    assert.equal((await hashes(destination)).size, before.size, "the copy was made");
    // Again before the update: everything is there, so the plan says the run fails without copying.
    const again = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--delete-source", "--dry-run"]);
    assert.equal(again.code, 1, again.stderr);
    assert.ok(again.stdout.includes(`  the source will be kept, and the run fails (there is nothing to copy): ${missing}\n`), again.stdout);
    assert.match(again.stdout, /Dry run: nothing was written; the run would fail, keeping the source \(above\)\.\n$/);

    // kops update cluster --yes --state <to>: the completed spec names the new configBase; a rendered file changes.
    const newBase = destination.url.replace(/^file:\/\//, "");
    await destination.join("cluster-completed.spec").write(CONFIG.replace("configBase: old", `configBase: ${newBase}`));
    const addon = [...before.keys()].find((p) => p.startsWith("addons/"))!;
    await destination.join(addon).write("rendered by the update\n");
    const dryAfter = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--delete-source", "--dry-run"]);
    assert.equal(dryAfter.code, 0, dryAfter.stderr);
    assert.match(dryAfter.stdout, new RegExp(`1 file\\(s\\) at the destination are newer \\(the cluster was updated against it\\); they are kept, not overwritten: ${addon.replace(/\./g, "\\.")}\n`));
    assert.match(dryAfter.stdout, /then delete the 11 source files/);
    const done = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--delete-source", "--yes"]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Migrated cli\.k8s\.example\.com: 0 file\(s\) copied \(0 B\), 10 verified, 1 newer at the destination kept, source deleted\./);
    assert.deepEqual(await source.listTree(), []);
    assert.equal((await destination.join(addon).read()).data.toString(), "rendered by the update\n");
    // The same command again: the move is done, nothing to do (exit 4); without the cluster at the destination, a failure.
    const repeat = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--delete-source", "--yes"]);
    assert.equal(repeat.code, 4, repeat.stderr);
    assert.match(repeat.stdout, /^Nothing to do: cli\.k8s\.example\.com is already at .*, and its source .* was deleted\.\n$/);
    const elsewhere = await kstate(["migrate", CLUSTER, "--from", from, "--to", memStore(), "--delete-source", "--yes"]);
    assert.equal(elsewhere.code, 1, elsewhere.stderr);
    assert.match(elsewhere.stderr, /no cluster there/);
  });

  it("a destination holding a cluster of the name keeps its documents: a copy that would replace one is refused (exit 3), nothing written; other files that differ are named in the plan, then replaced", async function () {
    const from = memStore();
    await populate(openPath(from).join(CLUSTER), 8);
    const other = memStore();
    await openPath(other).join(CLUSTER, "config").write(CONFIG.replace("v1.30.2", "v1.31.0"));
    await openPath(other).join(CLUSTER, "instancegroup", "nodes").write("kind: InstanceGroup\n");
    const before = await hashes(openPath(other));
    for (const extra of [["--dry-run"], ["--yes"]]) {
      const r = await kstate(["migrate", CLUSTER, "--from", from, "--to", other, ...extra]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(plain(r.stderr), /already holds a cluster of this name, and 5 of its document\(s\) or key\(s\) differ from the source's or are missing there: config, pki\/private\/key-1\/keyset\.yaml, .*nothing was copied/);
      assert.deepEqual(await hashes(openPath(other)), before, "nothing written");
    }

    const to = memStore();
    assert.equal((await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--yes"])).code, 0);
    await openPath(to).join(CLUSTER, "backups/etcd/main/2").write("changed at the destination");
    const dry = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(plain(dry.stdout), /1 file\(s\) at the destination differ from the source's and are replaced: backups\/etcd\/main\/2/);
    assert.equal((await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--yes"])).code, 0);
    assert.deepEqual((await openPath(to).join(CLUSTER, "backups/etcd/main/2").read()).data, (await openPath(from).join(CLUSTER, "backups/etcd/main/2").read()).data);

    await openPath(to).join(CLUSTER, "secrets/token:0").write("changed at the destination");
    const kept = await hashes(openPath(to));
    const refused = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--yes"]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(plain(refused.stderr), /1 of its document\(s\) or key\(s\) differ from the source's or are missing there: secrets\/token:0\./);
    assert.deepEqual(await hashes(openPath(to)), kept, "nothing written");

    // A key the destination's cluster lacks (deleted there, or another cluster's) is not added either.
    await openPath(to).join(CLUSTER, "secrets/token:0").write((await openPath(from).join(CLUSTER, "secrets/token:0").read()).data);
    await openPath(to).join(CLUSTER, "pki/private/key-1/keyset.yaml").remove();
    const unchanged = await hashes(openPath(to));
    const added = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--yes"]);
    assert.equal(added.code, 3, added.stderr);
    assert.match(plain(added.stderr), /: pki\/private\/key-1\/keyset\.yaml\./);
    assert.deepEqual(await hashes(openPath(to)), unchanged, "nothing written");
  });

  it("what changes while the confirmation waits is not written over: another cluster's config is refused (exit 3), any other change stops the run (exit 3); nothing written", async function () {
    const from = memStore();
    await populate(openPath(from).join(CLUSTER), 6);
    const to = memStore();
    const foreign = openPath(to).join(CLUSTER);
    const raced = await kstate(["migrate", CLUSTER, "--from", from, "--to", to], {
      tty: true, input: "y\n",
      whileAsked: async () => {
        await foreign.join("config").write(CONFIG.replace("v1.30.2", "v1.31.0"));
        await foreign.join("instancegroup/nodes").write("kind: InstanceGroup # another cluster's\n");
      },
    });
    assert.equal(raced.code, 3, raced.stderr);
    assert.match(plain(raced.stderr), /already holds a cluster of this name/);
    assert.deepEqual([...(await hashes(foreign)).keys()].sort(), ["config", "instancegroup/nodes"], "nothing written beside the other cluster");

    const to2 = memStore();
    const changed = await kstate(["migrate", CLUSTER, "--from", from, "--to", to2], {
      tty: true, input: "y\n", whileAsked: async () => void (await openPath(to2).join(CLUSTER, "backups/etcd/main/2").write("written meanwhile")),
    });
    assert.equal(changed.code, 3, changed.stderr);
    assert.match(plain(changed.stderr), /the stores changed while the confirmation waited/);
    assert.deepEqual([...(await hashes(openPath(to2))).keys()], [`${CLUSTER}/backups/etcd/main/2`], "nothing written");
  });

  it("usage errors exit 2 and name the problem; a failure exits 1", async function () {
    for (const bad of ["1e2", "0x10", " 7", "1.5", "257"]) {
      const r = await kstate(["migrate", CLUSTER, "--from", "memfs://a", "--to", "memfs://b", "--concurrency", bad]);
      assert.equal(r.code, 2, `--concurrency ${bad}`);
      assert.match(r.stderr, /--concurrency must be a whole number from 1 to 256/);
    }
    assert.doesNotMatch((await kstate(["migrate", CLUSTER, "--from", "memfs://a", "--state", "memfs://a/", "--to", "memfs://b"])).stderr, /name two stores/, "one store, spelled two ways");
    const two = await kstate(["migrate", CLUSTER, "--from", "memfs://a", "--state", "memfs://c", "--to", "memfs://b"]);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /--from memfs:\/\/a and --state memfs:\/\/c name two stores/);
    assert.equal((await kstate(["migrate", CLUSTER, "--from", "memfs://a"])).code, 2);
    assert.match((await kstate(["migrate", CLUSTER, "--from", "memfs://a", "--to", "memfs://b", "--concurrency", "0"])).stderr, /--concurrency must be a whole number/);
    assert.equal((await kstate(["migrate", CLUSTER, "--to", "memfs://b"])).code, 2);
    assert.match((await kstate(["migrate", CLUSTER, "--to", "memfs://b"])).stderr, /KSTATE_STATE_STORE or KOPS_STATE_STORE/);
    assert.equal((await kstate(["migrate", CLUSTER, "--from", "memfs://a", "--to", "memfs://b", "--bogus"])).code, 2);
    const missing = await kstate(["migrate", CLUSTER, "--from", memStore(), "--to", memStore(), "--yes"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no cluster there/);
    assert.equal((await kstate(["migrate", CLUSTER, "--from", "ftp://x", "--to", "memfs://b"])).code, 1);
  });

  it("without a terminal, says the end once, and counts files already there as done from the start", async function () {
    const from = memStore();
    const to = memStore();
    await populate(openPath(from).join(CLUSTER), 40);
    const progress = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("copying:"));
    const first = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--yes"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(progress(first.stderr).filter((l) => /: 100% \(41\/41 files/.test(l)).length, 1, first.stderr);
    // Nothing to copy: one line, at 100%, not a count from 1/41.
    const again = await kstate(["migrate", CLUSTER, "--from", from, "--to", to, "--yes"]);
    const lines = progress(again.stderr);
    assert.equal(lines.length, 1, again.stderr);
    assert.match(lines[0]!, /^copying: 100% \(41\/41 files/);
    assert.match(lines[0]!, /, 0 B\/s\)$/, "files already there are not counted as copied");
    for (const line of progress(first.stderr)) assert.match(line, /, (\d+ B|\d+\.\d [KMGT]iB)\/s(, \d+s left)?\)$/, "a rate in whole bytes or to a tenth of its unit");
  });

  it("draws a progress bar under a pseudo-terminal that ends at 100%", async function () {
    const from = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pty-src-"))}`;
    const to = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pty-dst-"))}`;
    await populate(openPath(from).join(CLUSTER), 300);
    const command = `node ${BIN} migrate ${CLUSTER} --from ${from} --to ${to} --yes --concurrency 4`;
    const { stdout } = await promisify(execFile)("script", ["-qfec", command, "/dev/null"], { env: { ...process.env, TERM: "xterm" } });
    assert.match(stdout, /\rcopying \[#*-*\] +\d+%/, "a bar redrawn in place");
    assert.match(stdout, /\rcopying \[#{30}\] 100% 301\/301 files/);
    assert.match(plain(stdout), /Migrated cli\.k8s\.example\.com: 301 file\(s\) copied/);
    assert.match(stdout, /\u001b\[32mMigrated/, "colour on a terminal");
  });

  it("under a pseudo-terminal, a failure's message has a line of its own and the bar is not drawn after it", async function () {
    const fromDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pty-src-"));
    const toDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pty-dst-"));
    await populate(openPath(`file://${fromDir}`).join(CLUSTER), 300);
    // A file where the copies need a folder: every copy below backups/etcd/main/ fails.
    fs.mkdirSync(path.join(toDir, CLUSTER, "backups", "etcd"), { recursive: true });
    fs.writeFileSync(path.join(toDir, CLUSTER, "backups", "etcd", "main"), "in the way");
    const command = `node ${BIN} migrate ${CLUSTER} --from file://${fromDir} --to file://${toDir} --yes --concurrency 4`;
    const out = await promisify(execFile)("script", ["-qfec", command, "/dev/null"], { env: { ...process.env, TERM: "xterm" } }).then((r) => r.stdout, (e: { stdout: string }) => e.stdout);
    const at = out.indexOf("kstate migrate:");
    assert.ok(at > 0, out.slice(-2000));
    assert.match(out.slice(0, at), /\n$/, "the message starts a line");
    assert.doesNotMatch(out.slice(at), /\rcopying \[/, "no bar after the message");
  });

  it("SIGKILL at 10 random points of a 2,000-file run: the next run completes, nothing is missing or corrupt, the source is untouched", async function () {
    const bucket = await makeS3Bucket();
    const from = `s3://${bucket}`;
    const source = openPath(from, openOptions()).join(CLUSTER);
    await populate(source, 1999);
    const before = await hashes(source);
    const env = { ...process.env, ...s3Env() };
    // Each run is killed once the destination holds a chosen number of files, so the kill lands
    // mid-copy however fast this machine is; the points are seeded and printed on failure.
    const runOnce = (to: string, killAtFiles?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, "migrate", CLUSTER, "--from", from, "--to", to, "--yes"], { env, stdio: "ignore" });
      const folder = path.join(new URL(to).pathname, CLUSTER);
      const poll = killAtFiles === undefined ? undefined : setInterval(() => {
        if (countFiles(folder) >= killAtFiles) child.kill("SIGKILL");
      }, 5);
      child.on("exit", (code, signal) => {
        if (poll) clearInterval(poll);
        resolve({ code, signal });
      });
    });
    let killed = 0;
    const seed = 20261129;
    for (let trial = 0; trial < 10; trial++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kill-"));
      const to = `file://${dir}`;
      const at = 1 + (Math.imul(seed + trial, 2654435761) >>> 0) % 1800;
      const r = await runOnce(to, at);
      assert.equal(r.signal, "SIGKILL", `trial ${trial} (kill at ${at} files, seed ${seed}): the run ended before the kill (exit ${r.code})`);
      killed++;
      const destination = openPath(to).join(CLUSTER);
      const partial = await hashes(destination);
      for (const [p, h] of partial) {
        if (p === "config") continue;
        assert.equal(h, before.get(p), `trial ${trial}: ${p} at the destination is not the source's bytes`);
      }
      assert.deepEqual(await hashes(source), before, `trial ${trial}: the source changed`);
      const resumed = await runOnce(to);
      // 0: it copied the rest; 4: the killed run had already copied everything.
      assert.ok(resumed.code === 0 || resumed.code === 4, `trial ${trial}: the run after the kill exited ${resumed.code}`);
      const done = await hashes(destination);
      assert.deepEqual([...done.keys()].sort(), [...before.keys()].sort(), `trial ${trial}: files missing`);
      for (const [p, h] of before) if (p !== "config") assert.equal(done.get(p), h, `trial ${trial}: ${p}`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(killed, 10);
  });
});
