/**
 * A comment a person wrote stays with the field when kstate changes the field's value: on the
 * line (`# pinned`) and above it, for a scalar and for a list replaced whole, whose flow style
 * (`[a, b]`) stays too. Through `kstate create cluster` on a file:// store, as a user meets it.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseYaml, setIn, stringifyYaml } from "../../src/store/yaml";
import { kstate } from "../support/cli";

const NAME = "comments.k8s.example.com";

describe("a changed value keeps the comments around it", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-comments-"));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("create cluster --kubernetes-version and --admin-access on a commented config", async function () {
    const env = { KOPS_STATE_STORE: `file://${dir}` };
    const made = await kstate(["create", "cluster", NAME, "--cloud", "aws", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"], { env });
    assert.equal(made.code, 0, made.stderr);
    const file = path.join(dir, NAME, "config");
    const written = fs.readFileSync(file, "utf8");
    const commented = written
      .replace("  kubernetesApiAccess:\n  - 0.0.0.0/0\n  - ::/0\n", "  # who may reach the API\n  kubernetesApiAccess: ['0.0.0.0/0', '::/0']  # flow\n")
      .replace("  kubernetesVersion: v1.30.2\n", "  kubernetesVersion: v1.30.2  # pinned\n");
    assert.notEqual(commented, written, "the fixture found the lines it comments");
    fs.writeFileSync(file, commented);

    const changed = await kstate(["create", "cluster", NAME, "--kubernetes-version", "v1.30.3", "--admin-access", "10.0.0.0/8,10.1.0.0/16"], { env });
    assert.equal(changed.code, 0, changed.stderr);
    const after = fs.readFileSync(file, "utf8");
    assert.match(after, /\n {2}# who may reach the API\n {2}kubernetesApiAccess: \[10\.0\.0\.0\/8, 10\.1\.0\.0\/16\] # flow\n/);
    assert.match(after, /\n {2}kubernetesVersion: v1\.30\.3 # pinned\n/);
  });

  it("setIn: a map or list replaced by another keeps its comments; a scalar replaced by a list too", function () {
    const doc = parseYaml("spec:\n  # the kubelet\n  kubelet: {maxPods: 100}  # tuned\n  # one address\n  sshAccess: 10.0.0.0/8  # office\n", "test");
    setIn(doc, ["spec", "kubelet"], { maxPods: 110 });
    setIn(doc, ["spec", "sshAccess"], ["10.0.0.0/8", "10.1.0.0/16"]);
    assert.equal(stringifyYaml(doc), "spec:\n  # the kubelet\n  kubelet: {maxPods: 110} # tuned\n  # one address\n  sshAccess: # office\n  - 10.0.0.0/8\n  - 10.1.0.0/16\n");
  });
});
