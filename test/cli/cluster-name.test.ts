/**
 * kops's habits for naming the cluster, on every command that takes one: the argument, else
 * --name, else KOPS_CLUSTER_NAME (--name's default); two different names are refused. And
 * `migrate` finds its source store as every other command does, kops's config file included.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";

const NAME = "named.k8s.example.com";
const OTHER = "other.k8s.example.com";
const CREATE = ["--cloud", "aws", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"];

function tmpDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kstate-name-${label}-`));
}

describe("the cluster's name: argument, --name, KOPS_CLUSTER_NAME, on every command", function () {
  this.timeout(60_000);
  let store: string;
  let root: string;
  const env = (extra: Record<string, string> = {}) => ({ KOPS_STATE_STORE: `file://${store}`, KSTATE_EDITOR: "true", ...extra });
  const byEnv = () => env({ KOPS_CLUSTER_NAME: NAME });

  beforeEach(async function () {
    root = tmpDir("store");
    store = path.join(root, "store");
    for (const n of [NAME, OTHER]) {
      const r = await kstate(["create", "cluster", n, ...CREATE], { env: env() });
      assert.equal(r.code, 0, r.stderr);
    }
  });
  afterEach(function () {
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Each command as a kops user types it without the name; the output shows the cluster it took. */
  const cases: { name: string; argv: string[]; out: RegExp; stream?: "stdout" | "stderr"; code?: number }[] = [
    { name: "get cluster", argv: ["get", "cluster", "-o", "yaml"], out: new RegExp(`^apiVersion[\\s\\S]*name: ${NAME}\\n`) },
    { name: "get clusters (kops lists only the named one)", argv: ["get", "clusters"], out: new RegExp(`^NAME\\t.*\\n${NAME.replace(/\./g, "\\.")}\\t[^\\n]*\\n$`) },
    { name: "get ig", argv: ["get", "ig"], out: /^NAME\t+ROLE[\s\S]*nodes-us-east-1a/ },
    { name: "get all", argv: ["get", "all", "-o", "yaml"], out: new RegExp(`name: ${NAME}[\\s\\S]*kind: InstanceGroup`) },
    { name: "edit cluster", argv: ["edit", "cluster"], out: /^Edit cancelled: no changes/, code: 4 },
    { name: "edit ig", argv: ["edit", "ig", "nodes-us-east-1a"], out: /^Edit cancelled: no changes/, code: 4 },
    { name: "history (a file:// store keeps no versions: the message names the cluster's file)", argv: ["history"], out: new RegExp(`${NAME}/config: this store keeps no old versions`), stream: "stderr", code: 1 },
    { name: "rollback", argv: ["rollback", "--to", "v1"], out: new RegExp(`${NAME}/config: this store keeps no old versions`), stream: "stderr", code: 1 },
    { name: "rekey", argv: ["rekey"], out: new RegExp(`${NAME}`), code: 4 },
    { name: "get secrets", argv: ["get", "secrets"], out: /^NAME\t+SHA256/ },
  ];
  for (const c of cases) {
    const ways: [string, string[], () => Record<string, string>][] = [
      ["KOPS_CLUSTER_NAME", c.argv, byEnv],
      ["--name", [...c.argv, "--name", NAME], () => env()],
      ["the argument and the same KOPS_CLUSTER_NAME", [...c.argv.slice(0, 2), NAME, ...c.argv.slice(2)], byEnv],
    ];
    for (const [how, args, e] of ways) {
      if (how.startsWith("the argument") && !["get cluster", "edit cluster", "get all"].includes(c.name)) continue;
      it(`${c.name}: by ${how}`, async function () {
        const r = await kstate(args, { env: { ...e(), ...(c.name === "rekey" ? { KSTATE_PASSPHRASE: "correct horse battery" } : {}) } });
        assert.equal(r.code, c.code ?? 0, r.stderr);
        assert.match(r[c.stream ?? "stdout"], c.out);
        assert.doesNotMatch(r.stdout + r.stderr, new RegExp(OTHER.replace(/\./g, "\\.")));
      });
    }
  }

  it("export and delete cluster, by KOPS_CLUSTER_NAME", async function () {
    const dir = path.join(root, "exported");
    const exported = await kstate(["export", "--to", dir], { env: byEnv() });
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(fs.existsSync(path.join(dir, "config")));
    assert.match(fs.readFileSync(path.join(dir, "config"), "utf8"), new RegExp(`name: ${NAME}`));
    const deleted = await kstate(["delete", "cluster", "--yes"], { env: byEnv() });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.ok(!fs.existsSync(path.join(store, NAME)));
    assert.ok(fs.existsSync(path.join(store, OTHER, "config")));
  });

  it("create secret --name", async function () {
    const r = await kstate(["create", "secret", "token", "--name", NAME, "--from-literal", "s3cr3t"], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(store, NAME, "secrets", "token")));
  });

  it("migrate, by KOPS_CLUSTER_NAME", async function () {
    const to = `file://${path.join(root, "moved")}`;
    const r = await kstate(["migrate", "--to", to, "--yes"], { env: byEnv() });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(root, "moved", NAME, "config")));
    assert.ok(!fs.existsSync(path.join(root, "moved", OTHER)));
  });

  const refusals: { name: string; argv: string[]; env?: Record<string, string>; message: RegExp }[] = [
    { name: "an argument beside another KOPS_CLUSTER_NAME", argv: ["get", "cluster", OTHER], env: { KOPS_CLUSTER_NAME: NAME }, message: /two cluster names: "other\.k8s\.example\.com" \(argument\) and "named\.k8s\.example\.com" \(KOPS_CLUSTER_NAME\); give one/ },
    { name: "an argument beside another --name", argv: ["edit", "cluster", OTHER, "--name", NAME], message: /two cluster names: .* \(argument\) and "named\.k8s\.example\.com" \(--name\)/ },
    { name: "--cluster beside another --name", argv: ["get", "secrets", "--cluster", OTHER, "--name", NAME], message: /two cluster names: .* \(--cluster\) and .* \(--name\)/ },
    { name: "no name at all", argv: ["edit", "cluster"], message: /edit cluster needs a cluster name: the argument, --name NAME or KOPS_CLUSTER_NAME/ },
    { name: "no cluster for a group", argv: ["get", "ig"], message: /get ig needs a cluster name: --name NAME or KOPS_CLUSTER_NAME/ },
    { name: "two arguments, one a boolean's value", argv: ["delete", "cluster", NAME, "true"], message: /delete cluster takes one cluster name \(got "named\.k8s\.example\.com", "true"\); a boolean flag takes its value after =/ },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} (exit 2, nothing changed)`, async function () {
      const r = await kstate(c.argv, { env: env(c.env) });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, c.message);
      assert.ok(fs.existsSync(path.join(store, NAME, "config")));
    });
  }
});

describe("migrate finds its source store as every command does", function () {
  this.timeout(60_000);
  it("kops_state_store in ~/.kops.yaml, and in --config FILE", async function () {
    const home = tmpDir("home");
    const from = path.join(home, "from");
    const made = await kstate(["create", "cluster", NAME, ...CREATE, "--state", `file://${from}`], { env: { HOME: home } });
    assert.equal(made.code, 0, made.stderr);
    fs.writeFileSync(path.join(home, ".kops.yaml"), `kops_state_store: file://${from}\n`);
    const moved = await kstate(["migrate", NAME, "--to", `file://${path.join(home, "to")}`, "--yes"], { env: { HOME: home } });
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, new RegExp(`from file://${from}/${NAME}`));
    assert.ok(fs.existsSync(path.join(home, "to", NAME, "config")));

    fs.rmSync(path.join(home, ".kops.yaml"));
    const config = path.join(home, "kops-config.yaml");
    fs.writeFileSync(config, `kops_state_store: file://${from}\n`);
    const again = await kstate(["migrate", NAME, "--to", `file://${path.join(home, "to2")}`, "--yes", "--config", config], { env: { HOME: home } });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(fs.existsSync(path.join(home, "to2", NAME, "config")));

    const none = await kstate(["migrate", NAME, "--to", `file://${path.join(home, "to3")}`, "--yes"], { env: { HOME: home } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no state store: pass --from URL, or set KSTATE_STATE_STORE/);
    fs.rmSync(home, { recursive: true, force: true });
  });
});
