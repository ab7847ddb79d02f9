/**
 * The kops-update road's own rules: versions, arguments, the binary looked up. kops's runs
 * themselves (dry run, --yes, terraform, a failing task) are tested against moto in
 * test/interop/kops-update-moto.test.ts and test/engine/cluster-update.test.ts.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkKopsVersion, compareKopsVersions, findKops, lastUpdatedBy, parseUpdateReport, updateArgs } from "../../src/ops/kops-update";
import { KOPS_TASK_TYPES } from "../../src/ops/kops-task-types";
import { openPath, RefusedError, ValidationError } from "../../src/vfs";
import { toolPath } from "../support/servers";

describe("ops: kops update", function () {
  describe("compareKopsVersions", function () {
    const cases: [string, string, number][] = [
      ["1.36.2", "1.36.2", 0], ["1.36.2", "1.36.10", -1], ["1.37.0", "1.36.9", 1], ["v1.36.2", "1.36.2", 0],
      ["1.36.0-beta.1", "1.36.0", -1], ["1.36.0", "1.36.0-beta.1", 1], ["1.36.0-alpha.2", "1.36.0-beta.1", -1], ["2.0.0", "1.99.99", 1],
    ];
    for (const [a, b, want] of cases) it(`${a} vs ${b} is ${want}`, () => assert.equal(compareKopsVersions(a, b), want));
  });

  it("refuses a kops older than the one that last updated the cluster, unless the downgrade is allowed", function () {
    const kops = { path: "/usr/local/bin/kops", version: "1.35.1" };
    assert.throws(() => checkKopsVersion(kops, "1.36.2", "dev.example.com", false), (e: unknown) => RefusedError.isInstance(e)
      && /dev\.example\.com was last updated by kops 1\.36\.2; \/usr\/local\/bin\/kops is kops 1\.35\.1/.test(e.message) && /allowKopsDowngrade/.test(e.message));
    checkKopsVersion(kops, "1.36.2", "dev.example.com", true);
    checkKopsVersion(kops, "1.35.1", "dev.example.com", false);
    checkKopsVersion(kops, undefined, "dev.example.com", false);
  });

  it("gives kops the arguments each mode and option asks for", function () {
    const base = { name: "c.example.com", state: "s3://b" };
    assert.deepEqual(updateArgs({ ...base, mode: "preview" }), ["update", "cluster", "c.example.com", "--state", "s3://b"]);
    assert.deepEqual(updateArgs({ ...base, mode: "apply", prune: true, allowKopsDowngrade: true }), ["update", "cluster", "c.example.com", "--state", "s3://b", "--yes", "--allow-kops-downgrade", "--prune"]);
    assert.deepEqual(updateArgs({ ...base, mode: "terraform", outDir: "/tmp/tf", lifecycleOverrides: { SecurityGroup: "ExistsAndWarnIfChanges", IAMRole: "Ignore" } }),
      ["update", "cluster", "c.example.com", "--state", "s3://b", "--target=terraform", "--out", "/tmp/tf", "--lifecycle-overrides", "SecurityGroup=ExistsAndWarnIfChanges,IAMRole=Ignore"]);
    assert.throws(() => updateArgs({ ...base, mode: "terraform" }), /needs an output folder/);
    assert.throws(() => updateArgs({ ...base, mode: "apply", lifecycleOverrides: { SecurityGroup: "Sometimes" } }), (e: unknown) => ValidationError.isInstance(e) && /lifecycleOverrides\.SecurityGroup: "Sometimes" is not one of Sync, Ignore/.test(e.message));
    assert.throws(() => updateArgs({ ...base, mode: "apply", lifecycleOverrides: { "a=b": "Sync" } }), /"a=b" is not a task type of kops 1\.36\.2 \(e\.g\. SecurityGroup, LaunchTemplate\); kops would ignore it/);
    // kops's own --help example spells it SecurityGroups; kops then overrides nothing, silently.
    const typos = [["SecurityGroups", "SecurityGroup"], ["launchtemplate", "LaunchTemplate"], ["AutoScalingGroup", "AutoscalingGroup"], ["IAMRoel", "IAMRole"]] as [string, string][];
    for (const [typo, meant] of typos) {
      assert.throws(() => updateArgs({ ...base, mode: "apply", lifecycleOverrides: { [typo]: "Ignore" } }), (e: unknown) => ValidationError.isInstance(e) && e.message.includes(`did you mean ${meant}?`), typo);
    }
    assert.deepEqual(updateArgs({ ...base, mode: "preview", lifecycleOverrides: { ManagedFile: "Ignore", SSHKey: "ExistsAndWarnIfChanges" } }).slice(-2), ["--lifecycle-overrides", "ManagedFile=Ignore,SSHKey=ExistsAndWarnIfChanges"]);
  });

  it("knows each task type kstate accepts in lifecycleOverrides as a type in the real kops binary", function () {
    // Go keeps each type's name in the binary (`*awstasks.LaunchTemplate`): a name not there is no task kops makes.
    const binary = fs.readFileSync(toolPath("kops")).toString("latin1");
    const inBinary = new Set([...binary.matchAll(/\*[a-z]+\.([A-Z][A-Za-z0-9]*)/g)].map((m) => m[1]!));
    const missing = [...KOPS_TASK_TYPES].filter((t) => !inBinary.has(t));
    assert.deepEqual(missing, []);
    assert.ok(KOPS_TASK_TYPES.size > 50 && KOPS_TASK_TYPES.has("LaunchTemplate") && KOPS_TASK_TYPES.has("ManagedFile"));
  });

  it("finds kops on PATH or by path, and refuses what is not there or not kops", async function () {
    const kopsPath = toolPath("kops");
    const found = await findKops(undefined, { PATH: `/nonexistent:${path.dirname(kopsPath)}`, HOME: os.tmpdir() });
    assert.equal(found.version, "1.36.2");
    assert.equal(found.path, path.join(path.dirname(kopsPath), "kops"));
    assert.equal((await findKops(kopsPath, { HOME: os.tmpdir() })).version, "1.36.2");
    await assert.rejects(findKops(undefined, { PATH: "/nonexistent" }), /no kops on PATH: install kops, or give the binary's path/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-notkops-"));
    fs.writeFileSync(path.join(dir, "kops"), "#!/bin/sh\necho hello\n", { mode: 0o755 });
    await assert.rejects(findKops(path.join(dir, "kops"), {}), /not a kops binary \(exit 0\): hello/);
    await assert.rejects(findKops(path.join(dir, "missing"), {}), /not an executable file/);
    fs.rmSync(dir, { recursive: true });
  });

  it("reads a report whose text diffs hold blank lines (kops's user data): each task once, no line of a diff taken for a task", function () {
    const report = parseUpdateReport(fs.readFileSync(path.join(__dirname, "..", "..", "..", "test", "fixtures", "kops-update", "user-data-change.txt"), "utf8"));
    assert.deepEqual(report.changes.map((c) => `${c.action} ${c.task}`), [
      "modify LaunchTemplate/control-plane-us-east-1a.masters.dev.k8s.local",
      "modify LaunchTemplate/nodes-us-east-1a.dev.k8s.local",
      "modify ManagedFile/cluster-completed.spec",
      "modify ManagedFile/nodeupconfig-control-plane-us-east-1a",
      "modify ManagedFile/nodeupconfig-nodes-us-east-1a",
    ]);
    assert.ok(report.changes[0]!.details.includes("__EOF_KUBE_ENV"), JSON.stringify(report.changes[0]!.details));
    assert.equal(report.noChanges, false);
  });

  it("reads the version that last updated the cluster; a kops-version.txt that holds none is refused, naming the file", async function () {
    const folder = openPath(`file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-version-"))}`).join("c.example.com");
    assert.equal(await lastUpdatedBy(folder), undefined);
    for (const [text, read] of [["1.36.2\n", "1.36.2"], ["1.36.2-beta.1", "1.36.2-beta.1"]]) {
      await folder.join("kops-version.txt").write(text!);
      assert.equal(await lastUpdatedBy(folder), read);
    }
    // kops itself cannot read a leading v ("Invalid character(s) found in major number").
    for (const text of ["", "garbage", "1.36", "1.36.2 and more", "v1.36.2"]) {
      await folder.join("kops-version.txt").write(text);
      await assert.rejects(lastUpdatedBy(folder), (e: unknown) => ValidationError.isInstance(e) && e.message.startsWith(`${folder.url}/kops-version.txt holds ${JSON.stringify(text.trim())}, not a kops version`));
    }
  });

  it("reads an empty report as no changes", function () {
    assert.deepEqual(parseUpdateReport("No changes need to be applied\n"), { changes: [], noChanges: true });
  });
});
