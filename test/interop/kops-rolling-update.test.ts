/**
 * The rolling update's road with the real kops against moto: its arguments, kops's read-only
 * report read back, and the cloud-only roll. moto reports every instance's launch template as the
 * current one, so nothing ever needs replacing here (README, Tests): what this proves is that the
 * report is read as kops prints it and the roll runs; not that instances are replaced.
 */
import * as assert from "node:assert/strict";
import { findKops } from "../../src/ops/kops-update";
import { describeRolling, parseRollingReport, rollingUpdateArgs, runRollingUpdate } from "../../src/ops/kops-rolling-update";
import { makeS3Bucket } from "../support/env";
import { awsClusterName, createAwsCluster, kopsAws, startLocalAws } from "../support/local-aws";
import { toolPath } from "../support/servers";
import { forSuite } from "../support/suite";

describe("kops rolling-update against moto (real kops v1.36.2)", function () {
  this.timeout(300_000);
  const aws = forSuite(startLocalAws);

  it("gives kops the flags each option names, and refuses a bad one naming it", function () {
    assert.deepEqual(rollingUpdateArgs("c.example.com", "s3://b", { cloudOnly: true, instanceGroups: ["nodes-a"], nodeInterval: "2m", validateCount: 1, failOnDrainError: false }, true),
      ["rolling-update", "cluster", "c.example.com", "--state", "s3://b", "--yes", "--cloudonly", "--instance-group", "nodes-a", "--node-interval=2m", "--validate-count=1", "--fail-on-drain-error=false"]);
    assert.throws(() => rollingUpdateArgs("c", "s3://b", { nodeInterval: "soon" }, false), /rollingUpdate\.nodeInterval: "soon" is not a duration/);
    assert.throws(() => rollingUpdateArgs("c", "s3://b", { instanceGroupRoles: ["worker"] }, false), /rollingUpdate\.instanceGroupRoles: "worker" is not one of control-plane, apiserver, node, bastion/);
  });

  it("reads kops's report of a running cluster, and the cloud-only roll runs", async function () {
    const store = `s3://${await makeS3Bucket()}`;
    const name = awsClusterName("roll");
    await createAwsCluster(store, name, aws());
    await kopsAws(["update", "cluster", name, "--yes", "--state", store], aws().env());
    const kops = await findKops(toolPath("kops"), aws().env());
    const printed: string[] = [];
    const report = await runRollingUpdate({ kops, state: store, name, env: aws().env(), options: { cloudOnly: true }, apply: false, onLine: (l, s) => printed.push(`${s}: ${l}`) });
    assert.deepEqual(report.map((r) => r.name).sort(), ["control-plane-us-east-1a", "nodes-us-east-1a"], printed.join("\n"));
    for (const r of report) assert.ok(r.min === 1 && r.max === 1 && r.needUpdate === 0, JSON.stringify(r));
    assert.deepEqual(describeRolling(report, { cloudOnly: true }), ["rolling update: no instance needs replacing"]);
    assert.match(describeRolling(report, { cloudOnly: true, force: true })[0]!, /^rolling update: \S+ \(\w+\): replace \d+ of \d+ instance\(s\), cloud only/);
    const rolled = await runRollingUpdate({ kops, state: store, name, env: aws().env(), options: { cloudOnly: true }, apply: true });
    assert.equal(rolled.length, 2);
  });

  it("reads a report table as kops prints it", function () {
    // kops 1.36 (no NODES column) and older kops (with one).
    const out = "NAME\t\t\t\tSTATUS\tNEEDUPDATE\tREADY\tMIN\tTARGET\tMAX\ncontrol-plane-us-east-1a\tReady\t0\t\t1\t1\t1\t1\nnodes-us-east-1a\tNeedsUpdate\t1\t\t0\t1\t1\t1\n\nMust specify --yes to rolling-update.\n";
    assert.deepEqual(parseRollingReport(out), [
      { name: "control-plane-us-east-1a", status: "Ready", needUpdate: 0, ready: 1, min: 1, target: 1, max: 1 },
      { name: "nodes-us-east-1a", status: "NeedsUpdate", needUpdate: 1, ready: 0, min: 1, target: 1, max: 1 },
    ]);
    assert.equal(parseRollingReport("NAME STATUS NEEDUPDATE READY MIN TARGET MAX NODES\nnodes Ready 0 2 2 2 2 2\n")[0]!.nodes, 2);
    assert.deepEqual(parseRollingReport("No rolling-update required.\n"), []);
  });
});
