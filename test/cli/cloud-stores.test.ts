/**
 * The commands that touch revisions (edit, apply) against real object stores with versioning on:
 * conditional saves, concurrent writers and the revisions they leave behind. history and
 * rollback on the same stores are in history.test.ts.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diffDocuments } from "../../src/ops/cluster";
import { byFile } from "../support/documents";
import type { VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { openWith, versionedStores } from "../support/cli-stores";
import { snapshot } from "../support/snapshot";

const NAME = "cloud.k8s.example.com";
const IG = "instancegroup/nodes-us-east-1a";
const EDITOR = `${process.execPath} ${path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "editor.js")}`;


async function text(p: VfsPath): Promise<string> {
  return (await p.read()).data.toString("utf8");
}

for (const [kind, make] of Object.entries(versionedStores)) {
  describe(`kstate edit and apply on ${kind}`, function () {
    this.timeout(60_000);
    let url: string;
    let extra: Record<string, string>;
    let dir: string;
    let env: Record<string, string>;
    /** The cluster's folder, reached as the CLI reaches it. */
    const clusterOf = () => openWith(url, extra).join(NAME);
    const withSteps = (steps: unknown[]) => ({ ...env, EDIT_STEPS: JSON.stringify(steps) });
    const revisions = async (file: string) => {
      const r = await kstate(["history", NAME, "--file", file], { env });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").length - 1;
    };

    beforeEach(async function () {
      ({ url, env: extra } = await make());
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-cloud-cli-"));
      env = { ...extra, KOPS_STATE_STORE: url, KSTATE_EDITOR: EDITOR, EDIT_COUNTER: path.join(dir, "counter"), EDIT_SEEN: path.join(dir, "seen") };
      const cluster = clusterOf();
      const created = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env });
      assert.equal(created.code, 0, created.stderr);
      const ig = cluster.join(IG);
      await ig.write((await text(ig)).replace("  maxSize: 1\n", "  # sized for the batch jobs\n  maxSize: 1\n"));
    });

    it("edit: saved conditionally as a new revision, comments kept; an unchanged file writes nothing", async function () {
      const cluster = clusterOf();
      assert.equal(await revisions(IG), 2);
      const r = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], { env: withSteps([{ replace: ["maxSize: 1", "maxSize: 3"] }, {}]) });
      assert.equal(r.code, 0, r.stderr);
      assert.match(await text(cluster.join(IG)), /# sized for the batch jobs\n {2}maxSize: 3\n {2}minSize: 1/);
      assert.equal(await revisions(IG), 3);
      const before = await snapshot(cluster);
      const unchanged = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], { env: withSteps([{ replace: ["maxSize: 1", "maxSize: 3"] }, {}]) });
      assert.equal(unchanged.code, 4, "nothing to do");
      assert.match(unchanged.stdout, /Edit cancelled: no changes/);
      assert.deepEqual(await snapshot(cluster), before);
      assert.equal(await revisions(IG), 3);
    });

    it("edit: a YAML error keeps the text in a named file; a validation error reopens, then saves", async function () {
      const cluster = clusterOf();
      const before = await snapshot(cluster);
      const bad = await kstate(["edit", "cluster", NAME], { env: withSteps([{ write: "kind: Cluster\nspec: [unclosed\n" }]) });
      assert.equal(bad.code, 1);
      const kept = /stored to (\S+)/.exec(bad.stderr)?.[1];
      assert.ok(kept && fs.readFileSync(kept, "utf8").includes("spec: [unclosed"), bad.stderr);
      assert.deepEqual(await snapshot(cluster), before);

      fs.rmSync(env.EDIT_COUNTER!, { force: true });
      const fixed = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], {
        env: withSteps([{ replace: ["maxSize: 1", "maxSize: -1"] }, { replace: ["maxSize: -1", "maxSize: 2"] }]),
      });
      assert.equal(fixed.code, 0, fixed.stderr);
      assert.match(fs.readFileSync(env.EDIT_SEEN!, "utf8"), /# validation failed:\n.*spec\.maxSize: must be a whole number/);
      assert.match(await text(cluster.join(IG)), /maxSize: 2/);
    });

    it("edit: a concurrent write between open and save is reported (exit 3) and the other writer's change stays", async function () {
      const config = clusterOf().join("config");
      const r = await kstate(["edit", "cluster", NAME], {
        env: withSteps([{ replace: ["kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.9"], alsoWrite: [config.url, "channel: stable", "channel: alpha"] }]),
      });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /changed by someone else while you edited it; nothing was overwritten/);
      const stored = await text(config);
      assert.match(stored, /channel: alpha/);
      assert.match(stored, /kubernetesVersion: v1\.30\.2/);
    });

    it("apply: export, change one field, apply --yes; get all shows exactly that change, as a new revision", async function () {
      const before = byFile((await kstate(["get", "all", NAME, "-o", "yaml"], { env })).stdout);
      const folder = path.join(dir, "git");
      assert.equal((await kstate(["export", NAME, "--to", folder], { env })).code, 0);
      const file = path.join(folder, IG);
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 1", "maxSize: 4"));
      const dry = await kstate(["apply", "-f", folder, "--dry-run"], { env });
      assert.match(dry.stdout, /~ spec\.maxSize: 1 -> 4/);
      const applied = await kstate(["apply", "-f", folder, "--yes"], { env });
      assert.equal(applied.code, 0, applied.stderr);
      const after = byFile((await kstate(["get", "all", NAME, "-o", "yaml"], { env })).stdout);
      for (const f of Object.keys(before)) {
        assert.deepEqual(diffDocuments(before[f], after[f]), f === IG ? [{ path: "metadata.generation", after: 1 }, { path: "spec.maxSize", before: 1, after: 4 }] : [], f);
      }
      assert.equal(await revisions(IG), 3);
      assert.equal(await revisions("config"), 1);
      const again = await kstate(["apply", "-f", folder, "--yes"], { env });
      assert.equal(again.code, 4, again.stderr);
      assert.equal(await revisions(IG), 3, "applying the same folder again writes nothing");
    });
  });
}
