/**
 * The real kops (v1.36.2) running `update cluster` against moto, with the cluster's state in a
 * store kstate serves: on the shared MinIO (s3://, through kops's S3_ENDPOINT variables) and on
 * file://. Step by step, as a cluster's life goes: create, plan, apply, plan again (nothing to
 * do), change an instance group, a cloud call that fails mid-apply and then answers again, and
 * the terraform target. See test/support/local-aws.ts for the environment kops needs.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openPath } from "../../src/vfs";
import { makeS3Bucket, openOptions } from "../support/env";
import { awsClusterName, createAwsCluster, kopsAws, KopsAwsError, type KopsRun, type LocalAws, startLocalAws } from "../support/local-aws";
import { forSuite } from "../support/suite";

/** Timings of the steps, printed at the end of the run (they go into reports, not assertions). */
const timings: string[] = [];
function timed(step: string, run: KopsRun): KopsRun {
  timings.push(`${step}: ${(run.ms / 1000).toFixed(1)} s`);
  return run;
}

async function storeFiles(store: string, name: string): Promise<string[]> {
  return (await openPath(`${store}/${name}`, openOptions()).listTree()).map((f) => f.path).sort();
}

/** `text` as a regular expression matching it literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The actions among `actions` that change something in the cloud. */
const mutating = (actions: string[]) => actions.filter((a) => !/^(Describe|List|Get)/.test(a));

/** The machine type of instance group `group`, changed with `kops get ig -o yaml` and `kops replace -f`. */
async function setMachineType(aws: LocalAws, store: string, name: string, group: string, machineType: string): Promise<void> {
  const env = aws.env();
  const doc = (await kopsAws(["get", "ig", group, "--name", name, "--state", store, "-o", "yaml"], env)).stdout;
  assert.match(doc, /^ {2}machineType: \S+$/m);
  const file = path.join(fs.mkdtempSync(path.join(aws.dir, "ig-")), "ig.yaml");
  fs.writeFileSync(file, doc.replace(/^ {2}machineType: \S+$/m, `  machineType: ${machineType}`));
  await kopsAws(["replace", "-f", file, "--state", store], env);
}

describe("kops update cluster against moto (real kops v1.36.2)", function () {
  this.timeout(300_000);
  const aws = forSuite(startLocalAws);
  after(async function () {
    if (timings.length) console.log(`      kops against moto, step times:\n${timings.map((t) => `        ${t}`).join("\n")}`);
  });

  describe("s3:// store on MinIO", function () {
    const name = awsClusterName("upd");
    let store: string;
    const update = (args: string[] = []) => kopsAws(["update", "cluster", "--name", name, "--state", store, ...args], aws().env());

    before(async function () {
      store = `s3://${await makeS3Bucket()}`;
      const started = performance.now();
      await createAwsCluster(store, name, aws());
      timings.push(`s3: create cluster (dry run -o yaml, create -f, create sshpublickey): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    });

    it("step 1: a dry run lists the tasks it would run, makes no cloud change and writes no completed state", async function () {
      const from = aws().seen().length;
      const run = timed("s3: update cluster (dry run)", await update());
      assert.match(run.stdout, /^Will create resources:\n/);
      assert.match(run.stdout, /\nMust specify --yes to apply changes\n$/);
      for (const task of [`VPC/${name}`, `Subnet/us-east-1a.${name}`, `LaunchTemplate/nodes-us-east-1a.${name}`, `AutoscalingGroup/control-plane-us-east-1a.masters.${name}`, `IAMRole/masters.${name}`]) {
        assert.ok(run.stdout.includes(`\n  ${task}\n`), `the plan lists ${task}`);
      }
      assert.deepEqual(mutating(aws().seen().slice(from)), []);
      // The proxy's warm-pool correction at work: kops asks for the warm pools of groups that do
      // not exist yet, and without the 400 the dry run never ends.
      assert.ok(aws().calls().slice(from).some((c) => c.action === "DescribeWarmPool" && c.status === 400));
      assert.deepEqual(await aws().resources(name), { vpcs: [], subnets: [], autoscalingGroups: [], launchTemplates: [], iamRoles: [] });
      assert.ok(!(await storeFiles(store, name)).includes("cluster-completed.spec"));
    });

    it("step 2: --yes creates the cloud resources, tagged with the cluster, and completes the store", async function () {
      const run = timed("s3: update cluster --yes", await update(["--yes"]));
      assert.doesNotMatch(run.stderr, /error running task/);
      const resources = await aws().resources(name);
      assert.equal(resources.vpcs.length, 1);
      assert.equal(resources.subnets.length, 1);
      assert.deepEqual(resources.autoscalingGroups.sort(), [`control-plane-us-east-1a.masters.${name}`, `nodes-us-east-1a.${name}`]);
      assert.deepEqual(resources.launchTemplates.sort(), [`control-plane-us-east-1a.masters.${name}`, `nodes-us-east-1a.${name}`]);
      assert.deepEqual(resources.iamRoles.sort(), [`masters.${name}`, `nodes.${name}`]);

      const files = await storeFiles(store, name);
      for (const f of [
        "cluster-completed.spec", "kops-version.txt",
        "igconfig/control-plane/control-plane-us-east-1a/nodeupconfig.yaml", "igconfig/node/nodes-us-east-1a/nodeupconfig.yaml",
        "addons/bootstrap-channel.yaml", "pki/private/kubernetes-ca/keyset.yaml", "pki/private/service-account/keyset.yaml",
      ]) assert.ok(files.includes(f), `the store holds ${f}; it has:\n${files.join("\n")}`);
      assert.ok(files.some((f) => /^addons\/kops-controller\.addons\.k8s\.io\//.test(f)));
    });

    // Also the proxy's subnet correction at work: without it every plan from here on shows
    // `Subnet/us-east-1a.<name>  ResourceBasedNaming false -> true`.
    it("step 3: a dry run right after finds nothing to change", async function () {
      const run = timed("s3: update cluster (dry run, no changes)", await update());
      assert.match(run.stdout, /^No changes need to be applied\n/);
    });

    it("step 4: a new machine type shows as a launch-template change, applies, and then nothing is left to change", async function () {
      await setMachineType(aws(), store, name, "nodes-us-east-1a", "t3.large");
      const plan = timed("s3: update cluster (dry run, machine type changed)", await update());
      assert.match(plan.stdout, /^Will modify resources:\n/);
      assert.match(plan.stdout, new RegExp(`\\n  ${literal(`LaunchTemplate/nodes-us-east-1a.${name}`)}\\n\\s+InstanceType\\s+t3\\.medium -> t3\\.large\\n`));
      timed("s3: update cluster --yes (machine type)", await update(["--yes"]));
      assert.match((await update()).stdout, /^No changes need to be applied\n/);
    });

    it("step 5: a cloud call that fails makes `update --yes` fail, naming the task; once it answers, the change applies", async function () {
      await setMachineType(aws(), store, name, "nodes-us-east-1a", "t3.xlarge");
      // A 4xx the SDK does not retry: with the default 500 InternalError it tries 13 times, with
      // backoff up to 20 s, and kops logs the first `error running task` about 3 minutes in.
      const restore = aws().failAction("CreateLaunchTemplateVersion", { status: 400, code: "UnauthorizedOperation", message: "You are not authorized to perform this operation." });
      let failure: KopsAwsError | undefined;
      try {
        await update(["--yes"]);
      } catch (e) {
        if (!(e instanceof KopsAwsError)) throw e;
        failure = e;
      } finally {
        restore();
      }
      assert.ok(failure, "update --yes succeeded although CreateLaunchTemplateVersion failed");
      timed("s3: update cluster --yes until `error running task` (CreateLaunchTemplateVersion answering 400)", failure.run);
      assert.equal(failure.reason, "task");
      assert.match(failure.run.stderr, new RegExp(`${literal(`error running task "LaunchTemplate/nodes-us-east-1a.${name}"`)} \\(\\S+ remaining to succeed\\): .*CreateLaunchTemplateVersion.*api error UnauthorizedOperation: You are not authorized`));

      await update(["--yes"]);
      assert.match((await update()).stdout, /^No changes need to be applied\n/);
    });

    it("step 6: --target=terraform --out DIR writes kubernetes.tf", async function () {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-tf-"));
      try {
        timed("s3: update cluster --target=terraform", await update(["--target=terraform", "--out", out]));
        const tf = fs.readFileSync(path.join(out, "kubernetes.tf"), "utf8");
        assert.match(tf, /resource "aws_launch_template" "nodes-us-east-1a-/);
        assert.match(tf, /resource "aws_autoscaling_group" "control-plane-us-east-1a-masters-/);
        assert.match(tf, new RegExp(`"KubernetesCluster" += ${literal(`"${name}"`)}`));
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  });

  describe("file:// store", function () {
    const name = awsClusterName("fil");
    let store: string;
    const update = (args: string[] = [], extra: Record<string, string> = {}) => kopsAws(["update", "cluster", "--name", name, "--state", store, ...args], aws().env(extra));

    before(async function () {
      store = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-aws-"))}`;
      await createAwsCluster(store, name, aws());
    });

    after(function () {
      fs.rmSync(new URL(store).pathname, { recursive: true, force: true });
    });

    it("creates the resources with --yes, completes the store, and then finds nothing to change", async function () {
      timed("file: update cluster --yes", await update(["--yes"]));
      const resources = await aws().resources(name);
      assert.equal(resources.vpcs.length, 1);
      assert.equal(resources.autoscalingGroups.length, 2);
      const files = await storeFiles(store, name);
      assert.ok(files.includes("cluster-completed.spec"));
      assert.ok(files.includes("igconfig/node/nodes-us-east-1a/nodeupconfig.yaml"));
      assert.match((await update()).stdout, /^No changes need to be applied\n/);
    });

    it("--target=terraform needs KOPS_FEATURE_FLAGS=-TerraformManagedFiles, then writes kubernetes.tf", async function () {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-tf-"));
      try {
        // With managed files on (the default), kops puts the store's files into the terraform as
        // aws_s3_object resources, which a file:// path cannot be: the task fails, and kops would
        // retry it for 10 minutes.
        await assert.rejects(update(["--target=terraform", "--out", out]), (e: unknown) =>
          e instanceof KopsAwsError && e.reason === "task" && /error running task "ManagedFile\/[^"]+" .*must be of a type that can render in Terraform/.test(e.run.stderr));
        timed("file: update cluster --target=terraform", await update(["--target=terraform", "--out", out], { KOPS_FEATURE_FLAGS: "-TerraformManagedFiles" }));
        assert.match(fs.readFileSync(path.join(out, "kubernetes.tf"), "utf8"), /resource "aws_launch_template" "nodes-us-east-1a-/);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  });
});
