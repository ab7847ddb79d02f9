/**
 * ClusterUpdate with the real Pulumi CLI, the real kops and moto as the cloud: a program with a
 * StateStore (MinIO), a ClusterConfig and a ClusterUpdate previews kops's task list, creates the
 * cloud resources and the files nodes boot from, is a no-op the second time, previews and applies
 * exactly a machine-type change, and keeps a failed update pending until an up completes it.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, ClusterUpdate, StateStore } from "../../src";
import { readFailedUpdate } from "../../src/ops/failed-update";
import { openPath } from "../../src/vfs";
import { makeS3Bucket, openOptions, s3Options, uniqueName } from "../support/env";
import { AWS_KUBERNETES_VERSION, awsClusterName, MOTO_AMI, motoCall, rsaSshPublicKey, startLocalAws } from "../support/local-aws";
import { inlineStack } from "../support/pulumi";
import { toolPath } from "../support/servers";
import { forSuite } from "../support/suite";

/** A one-zone AWS cluster kops can update against moto. */
function awsCluster(store: pulumi.Input<string>, name: string, sshPublicKey: string, nodeSize = "t3.medium"): ClusterConfig {
  return new ClusterConfig("dev", {
    store, name, sshPublicKey, endpoint: s3Options().endpoint!, region: "us-east-1",
    options: { cloud: "aws", zones: ["us-east-1a"], nodeCount: 1, kubernetesVersion: AWS_KUBERNETES_VERSION, image: MOTO_AMI, nodeSize, controlPlaneSize: "t3.medium" },
  });
}

describe("engine: ClusterUpdate runs kops update against moto", function () {
  this.timeout(900_000);
  const aws = forSuite(startLocalAws);

  it("previews kops's tasks, creates the cloud and the boot files, is then a no-op, and applies exactly a machine-type change", async function () {
    const bucket = await makeS3Bucket();
    const name = awsClusterName("eng");
    const key = rsaSshPublicKey();
    const settings = { machineType: "t3.medium", key };
    const stack = await inlineStack("kstate-update", uniqueName("s"), async () => {
      const store = new StateStore("state", { url: `s3://${bucket}`, adoptExisting: true, forceDestroy: true });
      const cluster = awsCluster(store.url, name, settings.key, settings.machineType);
      // An S3_ENDPOINT in environment naming another server does not take kops away from the store the ClusterConfig names.
      const update = new ClusterUpdate("update", { cluster, kops: toolPath("kops"), environment: aws().env({ S3_ENDPOINT: "http://127.0.0.1:9" }), failAfter: "20s" });
      return { plan: update.plan, applied: update.applied, kopsVersion: update.kopsVersion };
    });

    // The first preview: the bucket does not exist yet, nor the cluster; kops plans from the documents the ClusterConfig will write.
    const preview = await stack.preview();
    assert.equal(preview.changeSummary.create, 4, JSON.stringify(preview.changeSummary));
    assert.match(preview.stdout, /kops update cluster would make \d+ change\(s\)/);
    assert.match(preview.stdout, /\+ create LaunchTemplate\/nodes-us-east-1a\./);

    const up = await stack.up({ onOutput: () => {} });
    assert.equal(up.outputs.kopsVersion!.value, "1.36.2");
    assert.ok((up.outputs.applied!.value as string[]).some((l) => /\+ create AutoscalingGroup\//.test(l)), JSON.stringify(up.outputs.applied!.value).slice(0, 500));
    const made = await aws().resources(name);
    for (const [kind, list] of Object.entries(made) as [string, string[]][]) assert.ok(list.length > 0, `no ${kind} tagged with ${name} in moto: ${JSON.stringify(made)}`);
    const folder = openPath(`s3://${bucket}`, openOptions()).join(name);
    const files = (await folder.listTree()).map((f) => f.path);
    for (const want of [/^cluster-completed\.spec$/, /^kops-version\.txt$/, /^igconfig\/node\/nodes-us-east-1a\/nodeupconfig\.yaml$/, /^addons\/bootstrap-channel\.yaml$/, /^pki\/private\/kubernetes-ca\/keyset\.yaml$/]) {
      assert.ok(files.some((f) => want.test(f)), `${want} not among ${files.join(", ")}`);
    }

    // Nothing changed: the update does not run, and kops's own dry run agrees.
    const again = await stack.preview();
    assert.equal(again.changeSummary.update, undefined, JSON.stringify(again.changeSummary));
    assert.match(again.stdout, /would make no changes/);
    const second = await stack.up();
    assert.equal(second.summary.resourceChanges?.update, undefined, JSON.stringify(second.summary.resourceChanges));

    // A new admin SSH key: kops reads keys from the store, so its dry run cannot show it; the plan
    // names the key instead, the update runs for it, and afterwards kops has nothing left to do.
    settings.key = rsaSshPublicKey();
    const rekey = await stack.preview();
    assert.equal(rekey.changeSummary.update, 2, JSON.stringify(rekey.changeSummary));
    assert.match(rekey.stdout, /key change not in kops's dry run: pki\/ssh\/public\/admin\/[0-9a-f]+: create .*worked out at up/);
    await stack.up();
    assert.match((await stack.preview()).stdout, /would make no changes/);

    // One instance group's machine type: the preview names that change, and up applies it.
    settings.machineType = "t3.large";
    const change = await stack.preview();
    assert.equal(change.changeSummary.update, 2, JSON.stringify(change.changeSummary));
    assert.match(change.stdout, /~ modify LaunchTemplate\/nodes-us-east-1a\.[^:]+: InstanceType t3\.medium -> t3\.large/);
    // kops's whole plan is that group's launch template (and what derives from it), nothing else.
    const tasks = [...new Set([...change.stdout.matchAll(new RegExp(`${name.replace(/\./g, "\\.")}: ([+~-] (?:create|modify|delete) [^\\s:]+)`, "g"))].map((m) => m[1]!))];
    assert.ok(tasks.length > 0 && tasks.some((t) => t.startsWith("~ modify LaunchTemplate/nodes-us-east-1a.")), tasks.join("\n"));
    assert.ok(tasks.every((t) => /^~ modify (LaunchTemplate|ManagedFile)\/.*nodes-us-east-1a/.test(t)), tasks.join("\n"));
    // The update reaches the store with the settings the ClusterConfig was given, known while it changes.
    const detailed = await stack.preview({ diff: true });
    assert.doesNotMatch(detailed.stdout, /\b(endpoint|region|accessKeyId|secretAccessKey|sessionToken|project)\s*:\s*(\[unknown\]|output<)/, detailed.stdout.slice(0, 4000));
    await stack.up();
    const after = await stack.preview();
    assert.match(after.stdout, /would make no changes/);
  });

  it("the terraform target writes kubernetes.tf and its data files, and the store gets the keysets", async function () {
    const bucket = await makeS3Bucket();
    const name = awsClusterName("tf");
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-tf-"));
    const stack = await inlineStack("kstate-update-tf", uniqueName("s"), async () => {
      const cluster = awsCluster(`s3://${bucket}`, name, rsaSshPublicKey());
      new ClusterUpdate("update", { cluster, kops: toolPath("kops"), environment: aws().env(), target: "terraform", outDir: out });
    });
    await stack.up();
    assert.match(fs.readFileSync(path.join(out, "kubernetes.tf"), "utf8"), /resource "aws_launch_template" "nodes-us-east-1a-/);
    const data = fs.readdirSync(path.join(out, "data"));
    assert.ok(data.some((f) => /^aws_launch_template_nodes-us-east-1a\..*_user_data$/.test(f)), data.join(", "));
    const files = (await openPath(`s3://${bucket}`, openOptions()).join(name).listTree()).map((f) => f.path);
    assert.ok(files.includes("pki/private/kubernetes-ca/keyset.yaml"), files.join(", "));
    assert.deepEqual(await aws().resources(name).then((r) => r.launchTemplates), [], "terraform, not kops, changes the cloud");
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("with rollingUpdate, up rolls after the update and the preview shows kops's report", async function () {
    const bucket = await makeS3Bucket();
    const name = awsClusterName("roll");
    const key = rsaSshPublicKey();
    const stack = await inlineStack("kstate-update-roll", uniqueName("s"), async () => {
      const cluster = awsCluster(`s3://${bucket}`, name, key);
      new ClusterUpdate("update", { cluster, kops: toolPath("kops"), environment: aws().env(), rollingUpdate: { cloudOnly: true, nodeInterval: "1s", controlPlaneInterval: "1s" } });
    });
    const first = await stack.preview();
    assert.match(first.stdout, new RegExp(`${name.replace(/\./g, "\\.")}: rolling update: `));
    const up = await stack.up();
    assert.match(up.stdout, /kops: .*(No rolling-update required|NAME\s+STATUS\s+NEEDUPDATE)/);
    const again = await stack.preview();
    assert.match(again.stdout, /rolling update: no instance needs replacing/);
    assert.equal(again.changeSummary.update, undefined);
    await assert.rejects(inlineStack("kstate-update-roll-bad", uniqueName("s"), async () => {
      new ClusterUpdate("update", { store: `s3://${bucket}`, name, kops: toolPath("kops"), environment: aws().env(), rollingUpdate: { nodeInterval: "soon" } });
    }).then((s) => s.preview()), /property rollingUpdate .*has a problem: rollingUpdate\.nodeInterval: "soon" is not a duration/);
  });

  it("an update that fails stays pending, and the next up completes it; cloud drift found by refresh is applied", async function () {
    const bucket = await makeS3Bucket();
    const name = awsClusterName("fail");
    const key = rsaSshPublicKey();
    const stack = await inlineStack("kstate-update-fail", uniqueName("s"), async () => {
      const cluster = awsCluster(`s3://${bucket}`, name, key);
      new ClusterUpdate("update", { cluster, kops: toolPath("kops"), environment: aws().env(), failAfter: "10s" });
    });
    // A 400 (a 500 is retried by the AWS SDK for three minutes before kops sees it).
    const heal = aws().failAction("CreateLaunchTemplate", { status: 400, code: "UnauthorizedOperation", message: "You are not authorized to perform this operation." });
    const started = Date.now();
    await assert.rejects(stack.up(), (e: unknown) => /kops update failed; the update stays pending and the next up runs it again/.test(String(e))
      && /task LaunchTemplate\/\S+ kept failing for \d+ s/.test(String(e)));
    const took = Date.now() - started;
    assert.ok(took < 120_000, `the failing up took ${took} ms`);
    heal();
    // The failure is recorded in the store (a migration keeps its source while it is), until an update succeeds.
    const root = openPath(`s3://${bucket}`, openOptions());
    const recorded = await readFailedUpdate(root, name);
    assert.equal(recorded?.configBase, `s3://${bucket}/${name}`);
    assert.match(recorded!.outcome, /task LaunchTemplate\/\S+ kept failing/);
    const pending = await stack.preview();
    assert.equal(pending.changeSummary.create, 1, `the update is still to run: ${JSON.stringify(pending.changeSummary)}`);
    await stack.up();
    assert.equal(await readFailedUpdate(root, name), undefined, "a successful update clears the record");
    assert.ok((await aws().resources(name)).launchTemplates.length >= 2);
    const done = await stack.preview();
    assert.match(done.stdout, /would make no changes/);
    assert.equal(done.changeSummary.create, undefined);

    // A change behind Pulumi's back, in the cloud: refresh records it as pending, and up undoes it.
    const group = (await aws().resources(name)).autoscalingGroups.find((g) => g.startsWith("nodes-us-east-1a."))!;
    await motoCall(aws().moto.endpoint, "autoscaling", { Action: "UpdateAutoScalingGroup", Version: "2011-01-01", AutoScalingGroupName: group, MaxSize: "3" });
    const refresh = await stack.refresh();
    assert.equal(refresh.summary.resourceChanges?.update, 1, JSON.stringify(refresh.summary.resourceChanges));
    const drift = await stack.preview({ diff: true });
    assert.equal(drift.changeSummary.update, 1, JSON.stringify(drift.changeSummary));
    assert.match(drift.stdout, new RegExp(`~ modify AutoscalingGroup/${group.replace(/\./g, "\\.")}: MaxSize 3 -> 1`));
    await stack.up();
    const healed = await stack.preview();
    assert.match(healed.stdout, /would make no changes/);
    assert.equal(healed.changeSummary.update, undefined);
  });
});
