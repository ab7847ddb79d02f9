/**
 * `kstate update cluster` with the real kops against moto and a store on MinIO: the dry run, the
 * version check, --yes, the second run that has nothing to do, the terraform target, and usage
 * errors that run nothing; a failed update recorded, so a migration keeps its source.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readFailedUpdate } from "../../src/ops/failed-update";
import { KOPS_TASK_TYPES } from "../../src/ops/kops-task-types";
import { parseUpdateReport } from "../../src/ops/kops-update";
import { openPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { makeS3Bucket, openOptions } from "../support/env";
import { awsClusterName, createAwsCluster, type LocalAws, startLocalAws } from "../support/local-aws";
import { snapshot } from "../support/snapshot";
import { toolPath } from "../support/servers";

describe("cli: kstate update cluster (real kops, moto)", function () {
  this.timeout(600_000);
  let aws: LocalAws;
  let store: string;
  let name: string;

  before(async function () {
    aws = await startLocalAws();
    store = `s3://${await makeS3Bucket()}`;
    name = awsClusterName("cli");
    await createAwsCluster(store, name, aws);
  });
  after(async function () {
    await aws?.close();
  });

  const run = (args: string[]) => kstate(["update", "cluster", name, "--state", store, "--kops", toolPath("kops"), ...args], { env: aws.env() });

  it("refuses what it cannot run before kops runs: usage errors, and a kops older than the cluster's last", async function () {
    const root = openPath(store, openOptions());
    const before = await snapshot(root);
    const noOut = await run(["--target", "terraform"]);
    assert.equal(noOut.code, 2, noOut.stderr);
    assert.match(noOut.stderr, /--target terraform needs --out DIR/);
    const badTarget = await run(["--target", "cloudformation"]);
    assert.equal(badTarget.code, 2);
    const ig = await kstate(["update", "ig", "nodes"], { env: aws.env() });
    assert.equal(ig.code, 2);
    assert.match(ig.stderr, /kstate updates clusters/);
    const badOverride = await run(["--lifecycle-overrides", "SecurityGroup"]);
    assert.equal(badOverride.code, 2);
    const badLifecycle = await run(["--lifecycle-overrides", "SecurityGroup=Bogus"]);
    assert.equal(badLifecycle.code, 2, badLifecycle.stderr);
    assert.match(badLifecycle.stderr, /--lifecycle-overrides\.SecurityGroup: "Bogus" is not one of Sync, Ignore/);
    const badDuration = await run(["--fail-after", "banana"]);
    assert.equal(badDuration.code, 2, badDuration.stderr);
    assert.match(badDuration.stderr, /--fail-after: "banana" is not a duration/);
    assert.deepEqual(await snapshot(root), before);

    await root.join(name, "kops-version.txt").write("1.99.0");
    const old = await run([]);
    assert.equal(old.code, 1, old.stderr);
    assert.match(old.stderr, new RegExp(`${name.replace(/\./g, "\\.")} was last updated by kops 1\\.99\\.0; .*kops is kops 1\\.36\\.2, which is older`));
    assert.equal(old.stdout, "");
    await root.join(name, "kops-version.txt").remove();
    assert.deepEqual(await snapshot(root), before);

    // A cluster the store does not hold (a mistyped name, an empty file:// folder) is named, with the file.
    for (const [state, missing] of [[store, "missing.k8s.local"], [`file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-update-empty-"))}`, name]] as const) {
      const absent = await kstate(["update", "cluster", missing, "--state", state, "--kops", toolPath("kops")], { env: aws.env() });
      assert.equal(absent.code, 1, absent.stderr);
      assert.ok(absent.stderr.includes(`cluster "${missing}" not found: there is no ${state}/${missing}/config`), absent.stderr);
      assert.equal(absent.stdout, "");
    }
    assert.deepEqual(await snapshot(root), before);
  });

  it("dry run, --yes, then nothing to do (exit 4)", async function () {
    const root = openPath(store, openOptions());
    const before = await snapshot(root);
    const dry = await run([]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Will create resources:/);
    assert.match(dry.stderr, /kops 1\.36\.2 \(/);
    assert.match(dry.stderr, /\d+ task change\(s\); run with --yes to apply them/);
    // Every task type kops reports is one lifecycleOverrides accepts (the list is kops's own, from its source).
    const types = new Set(parseUpdateReport(dry.stdout).changes.map((c) => c.task.split("/")[0]!));
    assert.ok(types.size >= 10, [...types].join(", "));
    assert.deepEqual([...types].filter((t) => !KOPS_TASK_TYPES.has(t)), []);
    assert.deepEqual(await snapshot(root), before, "a dry run writes nothing to the store");

    const yes = await run(["--yes"]);
    assert.equal(yes.code, 0, yes.stderr.slice(-2000));
    const files = (await root.join(name).listTree()).map((f) => f.path);
    assert.ok(files.includes("cluster-completed.spec"), files.join(", "));
    assert.ok(files.includes("kops-version.txt"));
    assert.equal((await root.join(name, "kops-version.txt").read()).data.toString().trim(), "1.36.2");

    const again = await run([]);
    assert.equal(again.code, 4, again.stderr.slice(-2000));
    assert.match(again.stdout, /No changes need to be applied/);

    // A kops user's shell often exports KOPS_CLUSTER_NAME; kops refuses it beside a named cluster, so kstate does not pass it on.
    const named = await kstate(["update", "cluster", "--state", store, "--kops", toolPath("kops")], { env: { ...aws.env(), KOPS_CLUSTER_NAME: name } });
    assert.equal(named.code, 4, named.stderr.slice(-2000));
  });

  it("the terraform target writes kubernetes.tf into --out", async function () {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-tf-"));
    const tf = await run(["--target", "terraform", "--out", out]);
    assert.ok(tf.code === 0 || tf.code === 4, tf.stderr.slice(-2000));
    const text = fs.readFileSync(path.join(out, "kubernetes.tf"), "utf8");
    assert.match(text, /resource "aws_launch_template"/);
    assert.match(text, /resource "aws_autoscaling_group"/);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("an update against a moved store that fails keeps the source, though kops wrote cluster-completed.spec there; one that succeeds lets it go", async function () {
    const moved = awsClusterName("move");
    const from = `s3://${await makeS3Bucket()}`;
    const to = `s3://${await makeS3Bucket()}`;
    await createAwsCluster(from, moved, aws);
    const env = aws.env();
    const migrate = (args: string[]) => kstate(["migrate", moved, "--from", from, "--to", to, "--yes", ...args], { env });
    const update = (args: string[]) => kstate(["update", "cluster", moved, "--state", to, "--kops", toolPath("kops"), ...args], { env });
    const copied = await migrate([]);
    assert.equal(copied.code, 0, copied.stderr);

    // A 400 (a 500 is retried by the AWS SDK for minutes): kops keeps failing the launch templates.
    const heal = aws.failAction("CreateLaunchTemplate", { status: 400, code: "UnauthorizedOperation", message: "You are not authorized to perform this operation." });
    const failed = await update(["--yes", "--fail-after", "10s"]);
    heal();
    assert.equal(failed.code, 1, failed.stderr.slice(-2000));
    assert.match(failed.stderr, /task LaunchTemplate\/\S+ kept failing/);
    // What the record is for: kops wrote the completed spec naming the new store all the same.
    const destination = openPath(to, openOptions());
    const completed = (await destination.join(moved, "cluster-completed.spec").read()).data.toString();
    assert.ok(completed.includes(`configBase: ${to}/${moved}`), completed.slice(0, 400));

    const source = openPath(from, openOptions());
    const before = await snapshot(source);
    const refused = await migrate(["--delete-source"]);
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stdout, /the source will be kept, and the run fails (after the copy|\(there is nothing to copy\)): the last update against the new store failed, so nodes may still boot from the old store/);
    assert.match(refused.stderr, new RegExp(`the last update against the new store failed, so nodes may still boot from the old store \\(kops 1\\.36\\.2, at [^,]+, recorded in ${to}/\\.kstate/failed-updates/${moved.replace(/\./g, "\\.")}\\.json\\): stopped: task LaunchTemplate/`));
    assert.match(refused.stderr, new RegExp(`Run \`kstate update cluster ${moved.replace(/\./g, "\\.")} --yes --state ${to}\` \\(or \`kops update cluster ${moved.replace(/\./g, "\\.")} --yes --state ${to}\` and then remove ${to}/\\.kstate/failed-updates/`));
    assert.deepEqual(await snapshot(source), before, "the source is untouched");

    const done = await update(["--yes"]);
    assert.equal(done.code, 0, done.stderr.slice(-2000));
    assert.equal((await destination.join(".kstate", "failed-updates").listTree()).length, 0, "the record is cleared");
    const deleted = await migrate(["--delete-source"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /source deleted/);
    assert.deepEqual(await source.join(moved).listTree(), []);
  });

  it("an update is on record as under way while kops runs: stopped by a signal, or kstate killed outright, it stays on record", async function () {
    const stopped = awsClusterName("stop");
    const store = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-update-stop-"))}`;
    await createAwsCluster(store, stopped, aws);
    const root = openPath(store);
    const bin = path.resolve(__dirname, "..", "..", "..", "bin", "kstate.js");
    // kops keeps failing the launch templates, so it is still running when the signal comes.
    const heal = aws.failAction("CreateLaunchTemplate", { status: 400, code: "UnauthorizedOperation", message: "You are not authorized to perform this operation." });
    const interrupted = async (signal: NodeJS.Signals): Promise<{ code: number | null; output: string }> => {
      const child = spawn(process.execPath, [bin, "update", "cluster", stopped, "--yes", "--state", store, "--kops", toolPath("kops"), "--fail-after", "5m"], { env: aws.env(), detached: true });
      let output = "";
      let failing = false;
      let sent = false;
      const onData = (b: Buffer) => {
        output += b.toString();
        failing ||= /error running task/.test(output);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      try {
        for (let i = 0; i < 240 && !failing; i++) await new Promise((r) => setTimeout(r, 250));
        assert.ok(failing, output.slice(-2000));
        // While kops runs, the update is already on record.
        assert.match((await readFailedUpdate(root, stopped))?.outcome ?? "", /^did not finish: kstate stopped while kops ran/);
        process.kill(-child.pid!, signal);
        sent = true;
        return { code: await exited, output };
      } finally {
        if (!sent) process.kill(-child.pid!, "SIGKILL");
      }
    };
    try {
      const int = await interrupted("SIGINT");
      assert.equal(int.code, 1, int.output.slice(-2000));
      assert.match(int.output, /failed \(stopped by SIGINT\)/);
      assert.equal((await readFailedUpdate(root, stopped))?.outcome, "stopped by SIGINT");
      const killed = await interrupted("SIGKILL");
      assert.equal(killed.code, null);
      assert.match((await readFailedUpdate(root, stopped))?.outcome ?? "", /^did not finish: kstate stopped while kops ran \(started at /);
    } finally {
      heal();
    }
    const done = await kstate(["update", "cluster", stopped, "--yes", "--state", store, "--kops", toolPath("kops")], { env: aws.env() });
    assert.equal(done.code, 0, done.stderr.slice(-2000));
    assert.equal(await readFailedUpdate(root, stopped), undefined);
  });
});
