/**
 * `kstate create cluster NAME … --dry-run -o yaml | kops create -f -` stores a cluster that
 * `kops get cluster NAME -o yaml` (and `kops get ig`) prints back unchanged: the documents kstate
 * prints are kops's, byte for byte in meaning, with nothing on stdout but the documents. Run as
 * a user types it, through a shell pipe, with the real kops.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { toolPath } from "../support/servers";
import { forSuite } from "../support/suite";
import { CHANNEL, type Cloud, compareDocuments, type Doc, formatDifferences, KUBERNETES_VERSION, normalise, PROFILES, runKops, splitDocuments, startStandIns } from "../support/kops-create";

const NAME = "roundtrip.k8s.example.com";
const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "kstate.js");

const CASES: { id: string; cloud: Cloud; flags: string[] }[] = [
  { id: "aws, private, bastion, three zones", cloud: "aws", flags: ["--zones", "us-east-1a,us-east-1b,us-east-1c", "--topology", "private", "--bastion", "--node-count", "5"] },
  { id: "aws, mixed node sizes, volume sizes", cloud: "aws", flags: ["--zones", "us-east-1a,us-east-1b", "--node-size", "m5.large,m5a.large", "--node-volume-size", "50"] },
  { id: "hetzner, three control planes", cloud: "hetzner", flags: ["--zones", "fsn1", "--control-plane-count", "3", "--node-count", "2"] },
  { id: "digitalocean, one region", cloud: "digitalocean", flags: ["--zones", "nyc1"] },
];

function sh(command: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", command], { env, maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function docsOf(text: string, what: string): Doc[] {
  return parseAllDocuments(text).map((d, i) => {
    if (d.errors.length) throw new Error(`${what}, document ${i + 1}: ${d.errors[0]!.message}\n${text.slice(0, 1500)}`);
    return d.toJS() as Doc;
  }).filter((d) => d !== null && d !== undefined);
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

describe("kstate create cluster --dry-run -o yaml | kops create -f -: kops prints the cluster back unchanged", function () {
  this.timeout(180_000);
  const standIns = forSuite(startStandIns);

  for (const c of CASES) {
    it(c.id, async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-roundtrip-"));
      try {
        const store = `file://${dir}`;
        const p = PROFILES[c.cloud];
        const flags = ["--cloud", c.cloud, "--kubernetes-version", KUBERNETES_VERSION, "--channel", CHANNEL, "--image", p.image,
          ...(c.flags.includes("--node-size") ? [] : ["--node-size", p.nodeSize]), "--control-plane-size", p.controlPlaneSize, ...c.flags];
        const env = { ...standIns().env(c.cloud), KOPS_STATE_STORE: store };
        const kstateCmd = [process.execPath, BIN, "create", "cluster", NAME, ...flags, "--dry-run", "-o", "yaml"].map(quote).join(" ");

        // What kstate prints on stdout is documents only: it parses as they are, nothing cut.
        const printed = await sh(kstateCmd, env);
        assert.equal(printed.code, 0, printed.stderr);
        const ours = docsOf(printed.stdout, "kstate's stdout");
        assert.ok(ours.some((d) => d.kind === "Cluster") && ours.some((d) => d.kind === "InstanceGroup"), printed.stdout.slice(0, 500));
        assert.deepEqual(fs.readdirSync(dir), [], "a dry run writes nothing");

        const piped = await sh(`${kstateCmd} | ${quote(toolPath("kops"))} create -f - --state ${quote(store)}`, env);
        assert.equal(piped.code, 0, `${piped.stdout}\n${piped.stderr}`);
        const cluster = await runKops(["get", "cluster", NAME, "--state", store, "-o", "yaml"], env);
        assert.equal(cluster.code, 0, cluster.stderr);
        const groups = await runKops(["get", "ig", "--name", NAME, "--state", store, "-o", "yaml"], env);
        assert.equal(groups.code, 0, groups.stderr);
        const back = normalise(splitDocuments([...docsOf(cluster.stdout, "kops get cluster"), ...docsOf(groups.stdout, "kops get ig")]), dir, "kops");
        const mine = normalise(splitDocuments(ours), dir, "kstate");
        const differences = compareDocuments(back, mine);
        assert.deepEqual(differences, [], `kops printed back (path: kops value vs kstate value):\n${formatDifferences(differences)}`);
        // And kstate prints what kops stored as kops prints it, byte for byte, separators included.
        for (const argv of [["get", "all", NAME], ["get", "ig", "--name", NAME], ["get", "clusters"]]) {
          const theirs = await runKops([...argv, "--state", store, "-o", "yaml"], env);
          const mineOut = await sh([process.execPath, BIN, ...argv, "--state", store, "-o", "yaml"].map(quote).join(" "), env);
          assert.equal(mineOut.code, 0, mineOut.stderr);
          assert.equal(mineOut.stdout, theirs.stdout, `${argv.join(" ")} -o yaml`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
