/**
 * Each command reads what it needs once, with the reads that do not depend on each other issued
 * together, and writes conditional on those reads: the requests and the rounds of requests (one
 * after another) each command makes, counted in a watched memfs:// store. The floor of a command
 * that changes documents is three rounds: the config, the groups' listing and the store's
 * encryption policy (which the write needs), then the groups (the whole cluster is validated),
 * then the writes. A reading command that shows a cluster with its groups takes two.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClusterStore } from "../../src/store/cluster-store";
import { openPath, resetMemoryStore } from "../../src/vfs";
import { kstate } from "../support/cli";
import { uniqueName } from "../support/env";
import { counted, requestsOf, rounds, type ServedRequest } from "../support/request-rounds";

const NAME = "rounds.k8s.example.com";
const FLAGS = ["--zones", "us-east-1a,us-east-1b", "--node-size", "m5.large", "--kubernetes-version", "v1.30.2", "--cloud", "aws"];
const GROUPS = ["control-plane-us-east-1a", "nodes-us-east-1a", "nodes-us-east-1b"];

async function freshCluster(): Promise<{ name: string; state: string }> {
  const name = uniqueName("rounds");
  resetMemoryStore(name);
  const state = `memfs://${name}`;
  const made = await kstate(["create", "cluster", NAME, ...FLAGS], { env: { KOPS_STATE_STORE: state } });
  assert.equal(made.code, 0, made.stderr);
  return { name, state };
}

/** Runs the CLI against the watched store; the requests it made. */
async function watched(store: { name: string; state: string }, argv: string[], input?: string): Promise<ServedRequest[]> {
  return requestsOf(store.name, async () => {
    const r = await kstate(argv, { env: { KOPS_STATE_STORE: store.state }, ...(input !== undefined ? { input } : {}) });
    assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
  });
}

const file = (f: string) => `${NAME}/${f}`;
const eachOnce = (files: string[]) => Object.fromEntries(files.map((f) => [file(f), 1]));
/** The store's encryption policy, which a write needs: read beside the cluster's files. */
const POLICY = ".kstate/encryption.json";
const withPolicy = (reads: Record<string, number>) => ({ [POLICY]: 1, ...reads });
const groupFiles = GROUPS.map((g) => `instancegroup/${g}`);

describe("requests and rounds per command (memfs, counted)", function () {
  it("a watched store counts requests in flight together as one round, and each awaited one as another", async function () {
    const store = await freshCluster();
    const root = openPath(store.state).join(NAME);
    const together = await requestsOf(store.name, async () => {
      await Promise.all([root.join("config").read(), root.join("instancegroup").list()]);
    });
    const inTurn = await requestsOf(store.name, async () => {
      await root.join("config").read();
      await root.join("instancegroup").list();
    });
    assert.deepEqual([together.length, rounds(together)], [2, 1]);
    assert.deepEqual([inTurn.length, rounds(inTurn)], [2, 2]);
  });

  it("a ClusterConfig's drift check (the documents' revisions) is two listings in one round, reading nothing", async function () {
    const store = await freshCluster();
    const clusters = new ClusterStore(openPath(store.state));
    let revisions: Record<string, string> | undefined;
    const log = await requestsOf(store.name, async () => {
      revisions = await clusters.documentRevisions(NAME);
    });
    assert.deepEqual(Object.keys(revisions ?? {}).sort(), ["config", ...groupFiles].sort());
    assert.deepEqual([log.length, rounds(log), counted(log, "get")], [2, 1, {}]);
  });

  it("create cluster --node-count on an existing cluster reads each file once and writes once, in three rounds", async function () {
    const store = await freshCluster();
    const log = await watched(store, ["create", "cluster", NAME, "--node-count", "5"]);
    assert.deepEqual(counted(log, "get"), withPolicy(eachOnce(["config", ...groupFiles])));
    assert.deepEqual(counted(log, "list"), { [`${NAME}/instancegroup/`]: 1 });
    assert.deepEqual(counted(log, "head"), {}, "no second look before writing");
    assert.deepEqual(counted(log, "put"), eachOnce(["instancegroup/nodes-us-east-1a", "instancegroup/nodes-us-east-1b"]));
    assert.equal(rounds(log), 3);
  });

  it("get all and get ig read the config and the listing together, then the groups: two rounds", async function () {
    const store = await freshCluster();
    for (const argv of [["get", "all", NAME, "-o", "yaml"], ["get", "ig", "--name", NAME]]) {
      const log = await watched(store, argv);
      assert.deepEqual(counted(log, "get"), eachOnce(["config", ...groupFiles]), argv.join(" "));
      assert.equal(log.length, 5, argv.join(" "));
      assert.equal(rounds(log), 2, argv.join(" "));
    }
  });

  it("get cluster is one request, get clusters two rounds", async function () {
    const store = await freshCluster();
    const one = await watched(store, ["get", "cluster", NAME]);
    assert.deepEqual([one.length, rounds(one)], [1, 1]);
    const all = await watched(store, ["get", "clusters"]);
    assert.deepEqual([all.length, rounds(all)], [2, 2]);
  });

  it("edit --set, create ig and delete ig read each file once and write once, in three rounds", async function () {
    const store = await freshCluster();
    const cases: [string[], string, string][] = [
      [["edit", "cluster", NAME, "--set", "spec.kubelet.maxPods=120"], "put", "config"],
      [["create", "ig", "extra", "--name", NAME, "--subnet", "us-east-1a"], "put", "instancegroup/extra"],
      [["delete", "ig", "extra", "--name", NAME, "--yes"], "delete", "instancegroup/extra"],
    ];
    for (const [argv, op, written] of cases) {
      const before = argv[0] === "delete" ? [...groupFiles, "instancegroup/extra"] : groupFiles;
      const log = await watched(store, argv);
      assert.deepEqual(counted(log, "get"), withPolicy(eachOnce(["config", ...before])), argv.join(" "));
      assert.deepEqual(counted(log, "head"), {}, argv.join(" "));
      assert.deepEqual(counted(log, op as ServedRequest["op"]), eachOnce([written]), argv.join(" "));
      assert.equal(log.length, before.length + 4, argv.join(" "));
      assert.equal(rounds(log), 3, argv.join(" "));
    }
  });

  it("apply -f of an exported folder with one changed group reads each file once and writes once, in three rounds; export reads each once, in two", async function () {
    const store = await freshCluster();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-rounds-"));
    const exported = await watched(store, ["export", NAME, "--to", dir]);
    assert.equal(rounds(exported), 2);
    const exportReads = counted(exported, "get");
    assert.equal(exportReads[file("config")], 1, JSON.stringify(exportReads));
    assert.deepEqual(Object.entries(exportReads).filter(([, n]) => n !== 1), [], "export reads each file once");
    const group = path.join(dir, "instancegroup", "nodes-us-east-1a");
    fs.writeFileSync(group, fs.readFileSync(group, "utf8").replace("maxSize: 1", "maxSize: 4"));
    const log = await watched(store, ["apply", "-f", dir, "--yes"]);
    assert.deepEqual(counted(log, "get"), withPolicy(eachOnce(["config", ...groupFiles])));
    assert.deepEqual(counted(log, "put"), eachOnce(["instancegroup/nodes-us-east-1a"]));
    assert.equal(rounds(log), 3);
  });

  it("create secret and delete secret read the cluster and the secret together and write once, in three rounds; get secrets and get sshpublickeys take two", async function () {
    const store = await freshCluster();
    const made = await watched(store, ["create", "secret", "system:dns", "--name", NAME, "--from-literal", "s3cret"]);
    assert.deepEqual(counted(made, "get"), withPolicy(eachOnce(["config", ...groupFiles, "secrets/system:dns"])));
    assert.deepEqual(counted(made, "put"), eachOnce(["secrets/system:dns"]));
    assert.equal(made.length, 8);
    assert.equal(rounds(made), 3);
    const listed = await watched(store, ["get", "secrets", "--name", NAME]);
    assert.deepEqual(counted(listed, "get"), eachOnce(["config", "secrets/system:dns"]));
    assert.equal(rounds(listed), 2);
    const keys = await requestsOf(store.name, async () => {
      await kstate(["get", "sshpublickeys", "--name", NAME], { env: { KOPS_STATE_STORE: store.state } });
    });
    assert.equal(rounds(keys), 1, "no key stored: the config, the keys' listing and the legacy file at once");
    const gone = await watched(store, ["delete", "secret", "system:dns", "--name", NAME, "--yes"]);
    assert.deepEqual(counted(gone, "get"), withPolicy(eachOnce(["config", ...groupFiles, "secrets/system:dns"])));
    assert.deepEqual(counted(gone, "delete"), eachOnce(["secrets/system:dns"]));
    assert.deepEqual(counted(gone, "head"), {});
    assert.equal(rounds(gone), 3);
  });

  it("rollback of one file reads the cluster beside the file's versions, and writes once, in three rounds", async function () {
    const store = await freshCluster();
    const env = { KOPS_STATE_STORE: store.state };
    assert.equal((await kstate(["edit", "cluster", NAME, "--set", "spec.kubelet.maxPods=120"], { env })).code, 0);
    const history = await kstate(["history", NAME, "--file", "config"], { env });
    const before = history.stdout.split("\n")[2]!.split(/\s+/)[0]!;
    const log = await watched(store, ["rollback", NAME, "--file", "config", "--to", before, "--yes"]);
    assert.deepEqual(counted(log, "get"), withPolicy(eachOnce(["config", ...groupFiles])));
    assert.deepEqual(counted(log, "readVersion"), eachOnce(["config"]));
    assert.deepEqual(counted(log, "put"), eachOnce(["config"]));
    assert.equal(rounds(log), 3);
  });
});
