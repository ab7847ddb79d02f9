/**
 * A cluster kept in git, as a team would: export and commit; a teammate changes the store with
 * the real `kops edit cluster` while the folder holds an uncommitted change to another file;
 * `kstate pull` brings their change in without losing ours; `kstate apply` writes exactly ours;
 * a group removed with `git rm` goes with `--prune`, and the real kops agrees at every step.
 * On file:// and on MinIO.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";
import { kops, kopsEnv } from "../support/kops";
import { storesOf } from "../support/stores";

const NAME = "team.k8s.example.com";
const EDITOR = `${process.execPath} ${path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "editor.js")}`;

const stores = storesOf("file", "s3");

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" } });
}

for (const [label, make] of Object.entries(stores)) {
  describe(`a cluster kept in git, with a teammate using kops (${label})`, function () {
    this.timeout(300_000);
    it("pull merges the teammate's kops edit with an uncommitted local change; apply writes exactly the local change; --prune deletes a git rm'd group", async function () {
      const { url: state, env: extra } = await make();
      const env = { ...extra, KOPS_STATE_STORE: state };
      const run = (argv: string[]) => kstate(argv, { env });
      // Hetzner: kops edits it offline (on AWS its edit asks EC2 about volumes).
      const kopsGet = async (...args: string[]) => (await kops([...args, "--state", state], kopsEnv({ HCLOUD_TOKEN: "unused-offline" }))).stdout;
      assert.equal((await run(["create", "cluster", NAME, "--cloud", "hetzner", "--zones", "fsn1", "--node-size", "cx22", "--control-plane-size", "cx32", "--kubernetes-version", "v1.30.2"])).code, 0);
      const added = await run(["create", "ig", "nodes-extra", "--name", NAME, "--machine-type", "cx22", "--min", "1", "--max", "1"]);
      assert.equal(added.code, 0, added.stderr);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-team-git-"));
      const exported = await run(["export", NAME, "--to", dir]);
      assert.equal(exported.code, 0, exported.stderr);
      git(dir, "init", "-q");
      git(dir, "add", "-A");
      git(dir, "commit", "-qm", "the cluster as exported");

      // Ours, not committed: a bigger node group.
      const ours = path.join(dir, "instancegroup", "nodes-fsn1");
      fs.writeFileSync(ours, fs.readFileSync(ours, "utf8").replace("maxSize: 1", "maxSize: 4"));
      // Theirs, with the real kops: a newer Kubernetes.
      const work = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-team-editor-"));
      await kops(["edit", "cluster", NAME, "--state", state], kopsEnv({
        HCLOUD_TOKEN: "unused-offline", EDITOR, EDIT_STEPS: JSON.stringify([{ replace: ["kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.5"] }]), EDIT_COUNTER: path.join(work, "n"),
      }));
      assert.match(await kopsGet("get", "cluster", NAME, "-o", "yaml"), /kubernetesVersion: v1\.30\.5/);

      // The folder changed one file; the store changed another since: apply writes exactly ours and
      // leaves theirs alone (a file left as exported says nothing against the store's newer one).
      const diff = await run(["diff", "-f", dir]);
      assert.equal(diff.code, 1, diff.stderr);
      assert.deepEqual(diff.stdout.split("\n").filter((l) => /^  \S+: [~+-] /.test(l)), ["  instancegroup/nodes-fsn1: + metadata.generation: 1", "  instancegroup/nodes-fsn1: ~ spec.maxSize: 1 -> 4"], "exactly our change, and the generation it counts as kops does");
      assert.match(diff.stdout, /Changed in the store since the export[^\n]*\n  config\n/, "their change is reported, and stays");
      const applied = await run(["apply", "-f", dir, "--yes"]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(await kopsGet("get", "cluster", NAME, "-o", "yaml"), /kubernetesVersion: v1\.30\.5/, "theirs survived");
      assert.match(await kopsGet("get", "ig", "--name", NAME), /^nodes-fsn1\s+Node\s+cx22\s+1\s+4\s+fsn1$/m, "kops reads ours");

      // pull brings theirs into the folder, ours stays, and the folder says what the store says.
      const pulled = await run(["pull", NAME, dir]);
      assert.equal(pulled.code, 0, `${pulled.stdout}${pulled.stderr}`);
      assert.match(fs.readFileSync(path.join(dir, "config"), "utf8"), /kubernetesVersion: v1\.30\.5/, "theirs is in the folder");
      assert.match(fs.readFileSync(ours, "utf8"), /maxSize: 4/, "ours is still there");
      assert.equal((await run(["diff", "-f", dir])).code, 0, "folder and store agree");
      git(dir, "add", "-A");
      git(dir, "commit", "-qm", "pulled and applied");

      git(dir, "rm", "-q", "instancegroup/nodes-extra");
      const kept = await run(["apply", "-f", dir, "--yes"]);
      assert.equal(kept.code, 4, kept.stderr);
      assert.match(kept.stdout, /kept in the store \(--prune deletes them\):\n  instancegroup\/nodes-extra/);
      assert.match(await kopsGet("get", "ig", "--name", NAME), /^nodes-extra\s/m);
      const pruned = await run(["apply", "-f", dir, "--prune", "--yes"]);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.match(pruned.stdout, /instancegroup\/nodes-extra: delete/);
      const groups = await kopsGet("get", "ig", "--name", NAME);
      assert.doesNotMatch(groups, /nodes-extra/);
      assert.match(groups, /^nodes-fsn1\s/m);
      assert.equal((await run(["diff", "-f", dir])).code, 0, "the folder and the store agree");
      git(dir, "commit", "-qam", "nodes-extra removed");
      assert.equal((await run(["pull", NAME, dir])).code, 4, "nothing new in the store");
      const again = await run(["export", NAME, "--to", dir]);
      assert.equal(again.code, 0, `the folder has no change of its own left: ${again.stderr}`);
      assert.equal(git(dir, "status", "--porcelain"), "", "exporting again changes nothing git tracks");

      // A teammate adds a group with kops, which writes it without the cluster label (kops adds it
      // when reading): diff reports it, and it blocks no kstate change.
      await kops(["create", "ig", "bykops", "--name", NAME, "--role", "Node", "--subnet", "fsn1", "--edit=false", "--state", state], kopsEnv({ HCLOUD_TOKEN: "unused-offline" }));
      const news = await run(["diff", "-f", dir]);
      assert.equal(news.code, 1, news.stderr);
      assert.match(news.stdout, /\n  instancegroup\/bykops \(made there; not in the folder\)\n/);
      const edited = await run(["edit", "cluster", NAME, "--set", "spec.kubelet.maxPods=100"]);
      assert.equal(edited.code, 0, edited.stderr);
      assert.equal((await run(["edit", "ig", "bykops", "--name", NAME, "--set", "spec.maxSize=3"])).code, 0);
      assert.match(await kopsGet("get", "ig", "--name", NAME), /^bykops\s+Node\s+\S+\s+\d+\s+3\s+fsn1$/m);
    });
  });
}
