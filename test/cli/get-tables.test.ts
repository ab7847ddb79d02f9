/**
 * `kstate get` without -o prints what the real `kops get` prints on the same store, byte for
 * byte: kops's columns and headings, roles as kops names them, zones found through the subnets,
 * `-` for a size that is not set, rows in kops's order, and `get all` as the cluster's table, a
 * blank line and the instance groups' table.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { makeS3Bucket } from "../support/env";
import { kops, kopsEnv } from "../support/kops";
import { s3Env } from "../support/stores";

const PUBLIC = "public.k8s.example.com";
const PRIVATE = "private.k8s.example.com";
const GCE = "gce.k8s.example.com";
const VERSION = ["--kubernetes-version", "v1.30.2"];

const stores: Record<string, () => Promise<{ url: string; env: Record<string, string> }>> = {
  "file://": async () => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-tables-"))}`, env: {} }),
  "s3 (MinIO)": async () => ({
    url: `s3://${await makeS3Bucket()}`,
    env: s3Env(),
  }),
};

/** A group added by hand: no sizes, so both kops and kstate print `-`. */
const UNSIZED_GROUP = `apiVersion: kops.k8s.io/v1alpha2
kind: InstanceGroup
metadata:
  labels:
    kops.k8s.io/cluster: ${PUBLIC}
  name: spot
spec:
  machineType: m5.large
  role: Node
  subnets:
  - us-east-1a
`;

for (const [kind, make] of Object.entries(stores)) {
  describe(`kstate get prints kops's tables (${kind})`, function () {
    this.timeout(120_000);
    it("get clusters, get cluster, get ig and get all print what kops get prints on the same store", async function () {
      const { url, env: cloud } = await make();
      const env = { ...cloud, KOPS_STATE_STORE: url };
      for (const argv of [
        ["create", "cluster", PUBLIC, "--zones", "us-east-1a", "--cloud", "aws", ...VERSION],
        ["create", "cluster", PRIVATE, "--zones", "us-east-1a,us-east-1b", "--topology", "private", "--bastion", "--cloud", "aws", ...VERSION],
        ["create", "cluster", GCE, "--zones", "us-central1-a,us-central1-b", "--cloud", "gce", "--project", "tables", ...VERSION],
      ]) {
        const r = await kstate(argv, { env });
        assert.equal(r.code, 0, r.stderr);
      }
      await openWith(url, cloud).join(PUBLIC, "instancegroup", "spot").write(UNSIZED_GROUP);

      const commands = [
        ["get", "clusters"],
        ["get", "clusters", PRIVATE, PUBLIC],
        ["get", "cluster", GCE],
        ["get", "ig", "--name", PUBLIC],
        ["get", "ig", "--name", PRIVATE, "nodes-us-east-1b", "bastions"],
        ["get", "all", PUBLIC],
        ["get", "all", PRIVATE],
        ["get", "all", GCE],
      ];
      for (const argv of commands) {
        const ours = await kstate(argv, { env });
        assert.equal(ours.code, 0, `${argv.join(" ")}: ${ours.stderr}`);
        const theirs = await kops([...argv, "--state", url], kopsEnv());
        assert.equal(ours.stdout, theirs.stdout, argv.join(" "));
      }

      // What those tables hold, spelled out once.
      assert.equal((await kstate(["get", "all", PRIVATE], { env })).stdout, [
        "Cluster",
        "NAME\t\t\tCLOUD\tZONES",
        `${PRIVATE}\taws\tus-east-1a,us-east-1b`,
        "",
        "Instance Groups",
        "NAME\t\t\t\tROLE\t\tMACHINETYPE\tMIN\tMAX\tZONES",
        "bastions\t\t\tBastion\t\tt3.micro\t1\t1\tus-east-1a,us-east-1b",
        "control-plane-us-east-1a\tControlPlane\tt3.medium\t1\t1\tus-east-1a",
        "nodes-us-east-1a\t\tNode\t\tt3.medium\t1\t1\tus-east-1a",
        "nodes-us-east-1b\t\tNode\t\tt3.medium\t1\t1\tus-east-1b",
        "",
      ].join("\n"));
      assert.match((await kstate(["get", "ig", "--name", PUBLIC], { env })).stdout, /\nspot\t+Node\t+m5\.large\t-\t-\tus-east-1a\n/);
    });
  });
}
