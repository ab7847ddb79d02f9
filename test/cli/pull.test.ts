/**
 * An exported folder with changes of its own while the store moves on: `export` refuses to
 * overwrite the folder's changes, `pull` merges the store's changes into it (three-way, from the
 * copy of what was exported), and `apply -f` then writes exactly the folder's changes. On a
 * local folder and on MinIO without versioning: pull needs no old revisions from the store.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readRecord } from "../../src/cli/export-record";
import { diffDocuments } from "../../src/ops/cluster";
import { openPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { type CliStore, openWith } from "../support/cli-stores";
import { byFile } from "../support/documents";
import { snapshot } from "../support/snapshot";
import { freshStore } from "../support/stores";

const NAME = "pull.k8s.example.com";
const IG = "instancegroup/nodes-us-east-1a";
const CP = "instancegroup/control-plane-us-east-1a";
const BATCH = "instancegroup/batch-us-east-1a";
const SPARE = "instancegroup/spare-us-east-1a";

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const stores: Record<string, () => Promise<CliStore>> = {
  "file://": () => freshStore.file(),
  "s3 (MinIO, unversioned)": () => freshStore.s3(),
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`kstate export and pull on ${kind}`, function () {
    this.timeout(120_000);
    let store: CliStore;
    let dir: string;
    let env: Record<string, string>;
    const run = (argv: string[], extra: Record<string, string> = {}) => kstate(argv, { env: { ...env, ...extra } });
    const stored = (file: string) => openWith(store.url, store.env).join(NAME, file);
    const storedText = async (file: string) => (await stored(file).read()).data.toString("utf8");
    const local = (file: string) => path.join(dir, file);
    const localText = (file: string) => fs.readFileSync(local(file), "utf8");
    /** A change made in the folder, as a user makes it in an editor. */
    const edit = (file: string, from: string, to: string) => {
      assert.ok(localText(file).includes(from), `${file} holds ${JSON.stringify(from)}`);
      fs.writeFileSync(local(file), localText(file).replace(from, to));
    };
    /** Another instance group, written straight into the store (as another tool would). */
    const writeGroup = async (file: string) => {
      const name = file.split("/")[1]!;
      await stored(file).write((await storedText(IG)).replace(/nodes-us-east-1a/g, name));
    };

    beforeEach(async function () {
      store = await make();
      dir = tmp("kstate-pull-dir-");
      env = { ...store.env, KOPS_STATE_STORE: store.url };
      const created = await run(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"]);
      assert.equal(created.code, 0, created.stderr);
    });

    it("export refuses to overwrite the folder's changes since the last export, listing them and writing nothing; --force overwrites them", async function () {
      assert.equal((await run(["export", NAME, "--to", dir])).code, 0);
      const again = await run(["export", NAME, "--to", dir]);
      assert.equal(again.code, 0, `an export over an unchanged one works as before: ${again.stderr}`);

      // The user's report: an uncommitted edit, here with a group added and one removed.
      edit(IG, "  role: Node\n", "  role: Node\n  rootVolumeSize: 50\n");
      fs.writeFileSync(local(SPARE), localText(IG).replace(/nodes-us-east-1a/g, "spare-us-east-1a"));
      fs.rmSync(local(CP));
      fs.writeFileSync(local("README.md"), "# the dev cluster\n"); // the user's own: not the export's business
      const folderBefore = await snapshot(openPath(dir));
      const refused = await run(["export", NAME, "--to", dir]);
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, "");
      assert.equal(refused.stderr,
        `kstate export: ${dir} has changes since the last export, which exporting would overwrite:\n` +
        `  removed  ${CP}\n  edited   ${IG}\n  added    ${SPARE}\n` +
        `Nothing was written. Apply them (kstate apply -f ${dir}), take the store's changes in beside them (kstate pull ${NAME} ${dir}), or export with --force to discard them.\n`);
      assert.deepEqual(await snapshot(openPath(dir)), folderBefore, "nothing written");
      assert.match(localText(IG), /rootVolumeSize: 50/);

      const forced = await run(["export", NAME, "--to", dir, "--force"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(localText(IG), await storedText(IG), "the edit overwritten, as asked");
      assert.equal(localText(CP), await storedText(CP), "the removed group back");
      assert.ok(fs.existsSync(local(SPARE)) && fs.existsSync(local("README.md")), "files the cluster does not have are left alone");
      const still = await run(["export", NAME, "--to", dir]);
      assert.equal(still.code, 1);
      assert.match(still.stderr, new RegExp(`overwrite:\\n  added  ${SPARE}\\nNothing was written`));
    });

    it("pull merges a store change with the folder's own changes (another file, and the same file elsewhere); nothing new is exit 4; apply -f then writes exactly the folder's changes", async function () {
      assert.equal((await run(["export", NAME, "--to", dir])).code, 0);
      const exportedConfig = localText("config");
      edit("config", "kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.3");
      edit(IG, "  role: Node\n", "  role: Node\n  rootVolumeSize: 50\n");

      // A teammate's changes: create cluster merges --node-count into the group's sizes, and a new group.
      const merged = await run(["create", "cluster", NAME, "--node-count", "5"]);
      assert.equal(merged.code, 0, merged.stderr);
      await writeGroup(BATCH);
      const storeIg = await storedText(IG);
      assert.match(storeIg, /maxSize: 5\n  minSize: 5\n/);

      const pulled = await run(["pull", NAME, dir]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(pulled.stdout,
        `Pulled 2 change(s) to ${NAME} from ${store.url} into ${dir}:\n  added   ${BATCH}\n  merged  ${IG}\n` +
        `The folder's own changes are kept; kstate diff -f ${dir} shows what apply -f would write.\n`);
      assert.equal(localText(IG), storeIg.replace("  role: Node\n", "  role: Node\n  rootVolumeSize: 50\n"), "the store's sizes and the folder's volume; every other byte as stored");
      assert.equal(localText("config"), exportedConfig.replace("kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.3"), "the folder's change to a file the store left alone");
      assert.equal(localText(BATCH), await storedText(BATCH));
      const record = readRecord(dir)!;
      for (const file of ["config", IG, CP, BATCH]) {
        assert.equal(record.revisions[file], (await stored(file).stat()).revision, `${file}: the record holds the store's revision`);
        assert.equal(fs.readFileSync(path.join(dir, ".kstate", "base", file), "utf8"), await storedText(file), `${file}: the base is the store's version`);
      }

      const folderBefore = await snapshot(openPath(dir));
      const again = await run(["pull", NAME, dir]);
      assert.equal(again.code, 4);
      assert.match(again.stdout, /^Nothing new: /);
      assert.deepEqual(await snapshot(openPath(dir)), folderBefore);

      const diff = await run(["diff", "-f", dir]);
      // The generations the apply counts are part of what it writes, so the preview lists them.
      const counted = async (f: string) => {
        const g = /^  generation: (\d+)$/m.exec(await storedText(f))?.[1];
        return g === undefined ? `  ${f}: + metadata.generation: 1\n` : `  ${f}: ~ metadata.generation: ${g} -> ${Number(g) + 1}\n`;
      };
      assert.equal(diff.stdout, `Cluster ${NAME} in ${store.url}\n${await counted("config")}  config: ~ spec.kubernetesVersion: "v1.30.2" -> "v1.30.3"\n${await counted(IG)}  ${IG}: + spec.rootVolumeSize: 50\n`);
      const before = byFile((await run(["get", "all", NAME, "-o", "yaml"])).stdout);
      const applied = await run(["apply", "-f", dir, "--yes"]);
      assert.equal(applied.code, 0, applied.stderr);
      const after = byFile((await run(["get", "all", NAME, "-o", "yaml"])).stdout);
      assert.deepEqual(Object.keys(after).sort(), ["config", BATCH, CP, IG].sort());
      const generation = (f: string) => {
        const g = before[f]!.metadata.generation as number | undefined;
        return g === undefined ? { path: "metadata.generation", after: 1 } : { path: "metadata.generation", before: g, after: g + 1 };
      };
      const expected: Record<string, unknown[]> = {
        config: [generation("config"), { path: "spec.kubernetesVersion", before: "v1.30.2", after: "v1.30.3" }],
        [IG]: [generation(IG), { path: "spec.rootVolumeSize", after: 50 }],
        [CP]: [],
        [BATCH]: [],
      };
      for (const f of Object.keys(after)) assert.deepEqual(diffDocuments(before[f], after[f]), expected[f], f);
      assert.equal(after[IG]!.spec.maxSize, 5, "the teammate's change stays");

      // Applied, the folder's changes are the store's: a new export finds nothing of the folder's to overwrite.
      const exported = await run(["export", NAME, "--to", dir]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.equal(localText(IG), await storedText(IG));
    });

    it("pull marks overlapping changes as git does and exits 3; a group the store deleted and the folder changed is a conflict too; apply refuses markers; resolved, apply writes the resolution", async function () {
      await writeGroup(BATCH);
      await writeGroup(SPARE);
      assert.equal((await run(["export", NAME, "--to", dir])).code, 0);
      const exportedBatch = localText(BATCH);
      edit(IG, "maxSize: 1", "maxSize: 8");
      edit(BATCH, "machineType: t3.medium", "machineType: m5.large");

      assert.equal((await run(["create", "cluster", NAME, "--node-count", "5"])).code, 0);
      await stored(BATCH).remove();
      await stored(SPARE).remove();
      const storeIg = await storedText(IG);

      // The cluster's name from KOPS_CLUSTER_NAME, as for every command.
      const pulled = await run(["pull", dir], { KOPS_CLUSTER_NAME: NAME });
      assert.equal(pulled.code, 3, pulled.stderr);
      assert.equal(pulled.stdout, `Pulled 3 change(s) to ${NAME} from ${store.url} into ${dir}:\n  conflict  ${BATCH}\n  conflict  ${IG}\n  removed   ${SPARE}\n`);
      assert.equal(pulled.stderr, `kstate pull: conflicts in ${BATCH}, ${IG}: the folder and the store changed the same lines. Edit the lines between <<<<<<< local and >>>>>>> store to what they should say, then kstate apply -f ${dir}.\n`);
      assert.equal(localText(IG), storeIg.replace("  maxSize: 5\n  minSize: 5\n",
        "<<<<<<< local\n  maxSize: 8\n  minSize: 1\n||||||| exported\n  maxSize: 1\n  minSize: 1\n=======\n  maxSize: 5\n  minSize: 5\n>>>>>>> store\n"),
        "the store's generation merged; the sizes both sides changed, marked");
      assert.equal(localText(BATCH), `<<<<<<< local\n${exportedBatch.replace("t3.medium", "m5.large")}||||||| exported\n${exportedBatch}=======\n>>>>>>> store\n`);
      assert.ok(!fs.existsSync(local(SPARE)), "deleted in the store, unchanged in the folder: gone");

      const storeBefore = await snapshot(openWith(store.url, store.env));
      const unresolved = await run(["pull", NAME, dir]);
      assert.equal(unresolved.code, 3);
      assert.match(unresolved.stderr, new RegExp(`still has conflict markers in ${BATCH}, ${IG}: resolve them first`));
      const refused = await run(["apply", "-f", dir, "--yes"]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`(${BATCH}|${IG}): line \\d+ is a merge conflict marker`), "markers are named as such");
      assert.deepEqual(await snapshot(openWith(store.url, store.env)), storeBefore, "nothing written");

      // Resolved: the folder's maximum, the store's minimum; the deleted group stays deleted.
      fs.writeFileSync(local(IG), storeIg.replace("  maxSize: 5\n", "  maxSize: 8\n"));
      fs.rmSync(local(BATCH));
      const before = byFile((await run(["get", "all", NAME, "-o", "yaml"])).stdout);
      const applied = await run(["apply", "-f", dir, "--yes"]);
      assert.equal(applied.code, 0, applied.stderr);
      const after = byFile((await run(["get", "all", NAME, "-o", "yaml"])).stdout);
      assert.deepEqual(Object.keys(after).sort(), [CP, "config", IG].sort());
      const g = before[IG]!.metadata.generation as number;
      for (const f of Object.keys(after)) {
        assert.deepEqual(diffDocuments(before[f], after[f]), f === IG ? [{ path: "metadata.generation", before: g, after: g + 1 }, { path: "spec.maxSize", before: 5, after: 8 }] : [], f);
      }
      assert.equal((await run(["pull", NAME, dir])).code, 4);
    });

    it("secrets: an export that took them pulls their changes like any other file's; one that did not leaves them out", async function () {
      await stored("secrets/kube").write('{"Data":"b2xk"}');
      const withSecrets = tmp("kstate-pull-secrets-");
      assert.equal((await run(["export", NAME, "--to", withSecrets, "--include-secrets"])).code, 0);
      assert.equal((await run(["export", NAME, "--to", dir])).code, 0);

      await stored("secrets/kube").write('{"Data":"bmV3"}');
      await stored("secrets/admin").write('{"Data":"YWRtaW4="}');
      const pulled = await run(["pull", NAME, withSecrets]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stdout, /^  added    secrets\/admin\n  updated  secrets\/kube\n/m);
      assert.equal(fs.readFileSync(path.join(withSecrets, "secrets", "kube"), "utf8"), '{"Data":"bmV3"}');
      assert.equal(fs.readFileSync(path.join(withSecrets, "secrets", "admin"), "utf8"), '{"Data":"YWRtaW4="}');

      const without = await run(["pull", NAME, dir]);
      assert.equal(without.code, 4, without.stdout);
      assert.ok(!fs.existsSync(local("secrets")));
    });
  });
}

describe("kstate export and pull: folders they did not write", function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let dir: string;

  beforeEach(async function () {
    env = { KOPS_STATE_STORE: `file://${tmp("kstate-pull-store-")}` };
    dir = tmp("kstate-pull-dir-");
    assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
  });

  it("export into a new folder, or one holding only hidden entries (a fresh git repository), works as before", async function () {
    assert.equal((await kstate(["export", NAME, "--to", path.join(dir, "new", "folder")], { env })).code, 0);
    fs.mkdirSync(path.join(dir, "repo", ".git"), { recursive: true });
    const r = await kstate(["export", NAME, "--to", path.join(dir, "repo")], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(path.join(dir, "repo")).sort(), [".git", ".kstate", ".kstate-export.json", "config", "instancegroup"]);
  });

  it("export into a folder that is not empty and holds no export is refused unless --force, which leaves the folder's other files alone", async function () {
    fs.writeFileSync(path.join(dir, "config"), "mine\n");
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine too\n");
    const refused = await kstate(["export", NAME, "--to", dir], { env });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `kstate export: ${dir} is not empty (config, notes.txt) and holds no kstate export: nothing was written. Export into an empty or new folder, or pass --force (files the cluster does not have are left alone).\n`);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["config", "notes.txt"]);
    assert.equal((await kstate(["export", NAME, "--to", dir, "--force"], { env })).code, 0);
    assert.match(fs.readFileSync(path.join(dir, "config"), "utf8"), /kind: Cluster/);
    assert.equal(fs.readFileSync(path.join(dir, "notes.txt"), "utf8"), "mine too\n");
  });

  it("a folder exported by a kstate before pull (a record without hashes): export refuses until --force, pull asks for a new export", async function () {
    assert.equal((await kstate(["export", NAME, "--to", dir], { env })).code, 0);
    const record = JSON.parse(fs.readFileSync(path.join(dir, ".kstate-export.json"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, ".kstate-export.json"), JSON.stringify({ store: record.store, cluster: record.cluster, revisions: record.revisions }));
    fs.rmSync(path.join(dir, ".kstate"), { recursive: true });
    const refused = await kstate(["export", NAME, "--to", dir], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /was exported by an older kstate that kept no hashes of the exported files, so it cannot tell what changed there: nothing was written\. Commit or move what you want to keep, then export with --force\.\n$/);
    const pulled = await kstate(["pull", NAME, dir], { env });
    assert.equal(pulled.code, 1);
    assert.match(pulled.stderr, /was exported by an older kstate, which kept no copy of the exported files to merge from/);
    assert.equal((await kstate(["export", NAME, "--to", dir, "--force"], { env })).code, 0);
    assert.equal((await kstate(["pull", NAME, dir], { env })).code, 4);
  });

  it("export of another cluster into an exported folder is refused; pull needs the folder's export, and a cluster name", async function () {
    const other = "other.k8s.example.com";
    assert.equal((await kstate(["create", "cluster", other, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
    assert.equal((await kstate(["export", NAME, "--to", dir], { env })).code, 0);
    const refused = await kstate(["export", other, "--to", dir], { env });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `kstate export: ${dir} holds an export of ${NAME} from ${env.KOPS_STATE_STORE}: nothing was written. Export ${other} into a folder of its own, or pass --force.\n`);

    const wrong = await kstate(["pull", other, dir], { env });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `kstate pull: ${dir} holds no export of ${other} from ${env.KOPS_STATE_STORE} (it holds one of ${NAME} from ${env.KOPS_STATE_STORE}): export it first, with kstate export ${other} --to ${dir}\n`);
    const unnamed = await kstate(["pull", dir], { env });
    assert.equal(unnamed.code, 2);
    assert.match(unnamed.stderr, /pull needs a cluster name: the argument, --name NAME or KOPS_CLUSTER_NAME/);
    assert.equal((await kstate(["pull", "--name", NAME, dir], { env })).code, 4);
    assert.equal((await kstate(["pull", NAME], { env })).code, 2, "NAME alone: the folder is missing");
  });
});

describe("kstate pull in a clone without the base copy (.kstate/ left out of git)", function () {
  this.timeout(60_000);

  it("a file the folder did not change is still pulled; one both changed is listed, left as the folder has it, and kept at its exported revision, so apply -f refuses it unless --force", async function () {
    const state = `file://${tmp("kstate-pull-store-")}`;
    const env = { KOPS_STATE_STORE: state };
    const dir = tmp("kstate-pull-dir-");
    const cluster = openPath(state).join(NAME);
    assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
    assert.equal((await kstate(["export", NAME, "--to", dir], { env })).code, 0);
    fs.rmSync(path.join(dir, ".kstate"), { recursive: true });
    const exportedRevision = readRecord(dir)!.revisions[IG];
    const group = path.join(dir, IG);
    fs.writeFileSync(group, fs.readFileSync(group, "utf8").replace("maxSize: 1", "maxSize: 8"));
    const ours = fs.readFileSync(group, "utf8");

    assert.equal((await kstate(["create", "cluster", NAME, "--node-count", "5"], { env })).code, 0);
    const config = cluster.join("config");
    await config.write((await config.read()).data.toString().replace("kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.4"));

    const pulled = await kstate(["pull", NAME, dir], { env });
    assert.equal(pulled.code, 3);
    assert.equal(pulled.stdout, `Pulled 2 change(s) to ${NAME} from ${state} into ${dir}:\n  updated   config\n  conflict  ${IG} (no copy of the exported version to merge from: the folder's version kept)\n`);
    assert.match(pulled.stderr, new RegExp(`^kstate pull: not merged: ${IG}\\. Each keeps the folder's version and its exported revision, so apply -f refuses`));
    assert.equal(fs.readFileSync(path.join(dir, "config"), "utf8"), (await config.read()).data.toString(), "unchanged in the folder: its exported version is the folder's own file");
    assert.equal(fs.readFileSync(group, "utf8"), ours);
    assert.equal(readRecord(dir)!.revisions[IG], exportedRevision);

    const storeBefore = await snapshot(openPath(state));
    const refused = await kstate(["apply", "-f", dir, "--yes"], { env });
    assert.equal(refused.code, 3, refused.stderr);
    assert.deepEqual(await snapshot(openPath(state)), storeBefore);
    assert.equal((await kstate(["apply", "-f", dir, "--yes", "--force"], { env })).code, 0);
    assert.match((await cluster.join(IG).read()).data.toString(), /maxSize: 8\n  minSize: 1\n/);
  });
});
