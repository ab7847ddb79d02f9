/**
 * A teammate changes the cluster with the real `kops edit cluster` (v1.36.2) while the folder
 * exported from the store holds changes of its own: `kstate pull` merges kops's change into the
 * folder, `kstate apply -f` then writes only the folder's changes, and kops reads back both.
 * Hetzner, because `kops edit cluster` on it needs no cloud to check and write the change.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diffDocuments } from "../../src/ops/cluster";
import { parseYaml, parseYamlStream } from "../../src/store/yaml";
import { kstate } from "../support/cli";
import { byFile, type Doc } from "../support/documents";
import { kops, kopsEnv } from "../support/kops";

const NAME = "pull-kops.k8s.example.com";
const IG = "instancegroup/nodes-fsn1";


/** `kops edit cluster`'s $EDITOR: one change, made without a terminal. */
const EDITOR = `#!/bin/sh
sed -i 's/^  kubernetesVersion: v1.30.2$/  kubernetesVersion: v1.30.5/' "$1"
`;

describe("kstate pull with the real kops binary's edit as the store's change", function () {
  this.timeout(240_000);

  it("file://: kops edit cluster's change is merged beside the folder's changes; apply -f writes only the folder's; kops reads back both", async function () {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pull-kops-"));
    const state = `file://${path.join(root, "store")}`;
    const dir = path.join(root, "folder");
    const env = { KOPS_STATE_STORE: state };
    const created = await kstate(["create", "cluster", NAME, "--cloud", "hetzner", "--zones", "fsn1", "--node-size", "cx22", "--control-plane-size", "cx32", "--kubernetes-version", "v1.30.2"], { env });
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await kstate(["export", NAME, "--to", dir], { env })).code, 0);

    // The folder's own changes: who may SSH in (config, away from the version) and the nodes' maximum.
    const config = path.join(dir, "config");
    const exported = fs.readFileSync(config, "utf8");
    assert.match(exported, /\n  kubernetesVersion: v1\.30\.2\n[\s\S]*\n  sshAccess:\n  - 0\.0\.0\.0\/0\n  - ::\/0\n/);
    fs.writeFileSync(config, exported.replace("  sshAccess:\n  - 0.0.0.0/0\n  - ::/0\n", "  sshAccess:\n  - 10.0.0.0/8\n"));
    const group = path.join(dir, IG);
    fs.writeFileSync(group, fs.readFileSync(group, "utf8").replace("maxSize: 1", "maxSize: 3"));

    // The teammate: kops edit cluster, through a scripted editor.
    const editor = path.join(root, "editor.sh");
    fs.writeFileSync(editor, EDITOR, { mode: 0o755 });
    await kops(["edit", "cluster", NAME, "--state", state], kopsEnv({ HCLOUD_TOKEN: "unused-offline", EDITOR: editor, TMPDIR: root }));
    const kopsConfig = fs.readFileSync(path.join(root, "store", NAME, "config"), "utf8");
    assert.match(kopsConfig, /\n  kubernetesVersion: v1\.30\.5\n/, "kops wrote its change");

    const pulled = await kstate(["pull", NAME, dir], { env });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /^  merged  config$/m);
    assert.doesNotMatch(pulled.stdout, /instancegroup/, "the group the store did not change is left as the folder has it");
    assert.equal(fs.readFileSync(config, "utf8"), kopsConfig.replace("  sshAccess:\n  - 0.0.0.0/0\n  - ::/0\n", "  sshAccess:\n  - 10.0.0.0/8\n"), "kops's file, with the folder's change in it");
    assert.match(fs.readFileSync(group, "utf8"), /maxSize: 3/);

    const before = byFile((await kstate(["get", "all", NAME, "-o", "yaml"], { env })).stdout);
    const applied = await kstate(["apply", "-f", dir, "--yes"], { env });
    assert.equal(applied.code, 0, applied.stderr);
    const after = byFile((await kstate(["get", "all", NAME, "-o", "yaml"], { env })).stdout);
    const without = (changes: ReturnType<typeof diffDocuments>) => changes.filter((c) => c.path !== "metadata.generation");
    assert.deepEqual(without(diffDocuments(before.config, after.config)), [{ path: "spec.sshAccess", before: ["0.0.0.0/0", "::/0"], after: ["10.0.0.0/8"] }]);
    assert.deepEqual(without(diffDocuments(before[IG], after[IG])), [{ path: "spec.maxSize", before: 1, after: 3 }]);
    assert.deepEqual(diffDocuments(before["instancegroup/control-plane-fsn1"], after["instancegroup/control-plane-fsn1"]), []);

    const fromKops = parseYaml((await kops(["get", "cluster", NAME, "--state", state, "-o", "yaml"], kopsEnv({ HCLOUD_TOKEN: "unused-offline" }))).stdout, "kops get cluster").toJS() as Doc;
    assert.equal(fromKops.spec.kubernetesVersion, "v1.30.5", "the teammate's change survived");
    assert.deepEqual(fromKops.spec.sshAccess, ["10.0.0.0/8"]);
    const groups = parseYamlStream((await kops(["get", "ig", "--name", NAME, "--state", state, "-o", "yaml"], kopsEnv({ HCLOUD_TOKEN: "unused-offline" }))).stdout, "kops get ig").map((d) => d.toJS() as Doc);
    assert.equal(groups.find((g) => g.metadata.name === "nodes-fsn1")?.spec.maxSize, 3);
  });
});
