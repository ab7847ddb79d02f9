/**
 * Fault injection: toxiproxy between kstate and MinIO, and between kstate and fake-gcs-server.
 * Under latency, bandwidth limits, connections reset or cut mid-body, answers lost after the
 * server acted, black holes (timeouts), the server unreachable, and MinIO killed and restarted,
 * each trial runs at once: VFS writes of a small file, a multi-MiB file and a streamed file over
 * the single-request limit (S3 multipart, GCS resumable), a conditional write, a conditional
 * write with a stale revision, a create, `kstate apply -f` of an exported cluster with one
 * changed field, and a `syncCluster` migration of a small cluster. ClusterConfig updates go
 * through the real Pulumi CLI. Then the fault is removed and the store is read straight from the
 * server (not through the proxy): every document is exactly the old or the new bytes, every
 * reported success really applied, every failure is a KstateError (or a CLI exit code and
 * message) naming the URL, and running again without the fault converges.
 *
 * The harness (servers, proxies, fixtures, the trial and its tallies) is test/support/faults.ts.
 */
import * as assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig } from "../../src";
import { openPath } from "../../src/vfs";
import { uniqueName } from "../support/env";
import {
  CLUSTER, type Fault, FaultBench, flag, IG, type Outcome, readOrUndefined, runTrial, same, settle, sleep, tallied, TIMEOUT_MS, yamlOf,
} from "../support/faults";
import { engineEnv, inlineStack, newStateDir } from "../support/pulumi";

const FAULTS: Fault[] = [
  {
    name: "latency",
    trials: 1,
    // Every answer late, every request cut in small pieces.
    toxics: [
      { type: "latency", stream: "downstream", attributes: { latency: 150, jitter: 50 } },
      { type: "slicer", stream: "upstream", attributes: { average_size: 4096, size_variation: 2048, delay: 20 } },
    ],
    expect: (t) => assert.deepEqual([t.failures, t.refusals], [0, t.trials], `nothing fails under latency alone: ${t.sampleErrors.join(" | ")}`),
  },
  {
    name: "bandwidth",
    trials: 1,
    toxics: [
      { type: "bandwidth", stream: "upstream", attributes: { rate: 4096 } },
      { type: "bandwidth", stream: "downstream", attributes: { rate: 4096 } },
    ],
    // The proxy takes a whole 6 MiB part at once and trickles it on: the client then hears
    // nothing for ~1.5 s, which the 1.5 s silence timeout would rightly call a timeout.
    options: { vfs: { timeoutMs: 10_000 } },
    // Slow is not silent: the per-request timeout is about silence, not length.
    expect: (t) => assert.deepEqual([t.failures, t.refusals], [0, t.trials], `nothing fails under a bandwidth limit alone: ${t.sampleErrors.join(" | ")}`),
  },
  {
    name: "reset mid-body",
    trials: 3,
    // Half the connections reset (RST) 25 ms into their first request: large bodies mid-way.
    toxics: [{ type: "reset_peer", stream: "upstream", toxicity: 0.5, attributes: { timeout: 25 } }],
  },
  {
    name: "cut mid-body",
    trials: 3,
    // Half the connections closed after 256 KiB of requests: bodies truncated.
    toxics: [{ type: "limit_data", stream: "upstream", toxicity: 0.5, attributes: { bytes: 256 * 1024 } }],
  },
  {
    name: "answers lost",
    trials: 3,
    // Half the connections closed as the answer starts: the server acted, the client never hears.
    toxics: [{ type: "limit_data", stream: "downstream", toxicity: 0.5, attributes: { bytes: 0 } }],
  },
  {
    name: "timeout",
    trials: 1,
    // A third of the connections black-holed for 4 s and then closed: VFS requests (1.5 s
    // timeout) give up first; the CLI (30 s default) sees the close.
    toxics: [{ type: "timeout", stream: "upstream", toxicity: 0.35, attributes: { timeout: 4000 } }],
    options: { vfs: { timeoutMs: TIMEOUT_MS, retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 1000 } } },
  },
];


describe("faults: toxiproxy between kstate and MinIO / fake-gcs-server", function () {
  this.timeout(180_000);
  let bench: FaultBench;

  before(async function () {
    this.timeout(120_000);
    bench = await FaultBench.start();
  });

  after(async function () {
    await bench?.stop();
  });

  for (const backend of ["s3", "gcs"] as const) {
    for (const fault of FAULTS) {
      it(`${backend}: ${fault.name}: every operation succeeds or fails naming the URL; nothing half-written; again converges`, async function () {
        const fx = bench.fixture(backend);
        const t = await tallied(`faults: ${backend} ${fault.name}`, async (t) => {
          for (let i = 0; i < fault.trials; i++) {
            await runTrial(fx, t, async () => {
              for (const toxic of fault.toxics) await fx.target.proxy.addToxic(toxic);
            }, fault.options);
          }
        });
        fault.expect?.(t);
      });
    }

    it(`${backend}: server unreachable (proxy disabled), then back: each operation gets through on retries or fails naming the URL; again converges`, async function () {
      const fx = bench.fixture(backend);
      await tallied(`faults: ${backend} unreachable`, (t) => runTrial(fx, t, () => fx.target.proxy.setEnabled(false), {
        vfs: { retry: { attempts: 8, baseDelayMs: 200, maxDelayMs: 1500 } },
        during: async () => {
          await sleep(700);
          await fx.target.proxy.setEnabled(true);
        },
      }));
    });
  }

  it("s3: MinIO killed mid-operation and restarted on the same data and port", async function () {
    const fx = bench.fixture("s3");
    await tallied("faults: s3 minio killed and restarted", async (t) => {
      for (let trial = 0; trial < 2; trial++) {
        await runTrial(fx, t, async () => {
          // Slow enough that the large writes are in flight when the server dies.
          await fx.target.proxy.addToxic({ type: "bandwidth", stream: "upstream", attributes: { rate: 4096 } });
        }, {
          vfs: { timeoutMs: 5000, retry: { attempts: 8, baseDelayMs: 250, maxDelayMs: 2000 } },
          during: async () => {
            await sleep(trial === 0 ? 300 : 900);
            await bench.minio.kill();
            await sleep(500);
            await bench.minio.restart();
          },
        });
      }
    });
  });

  // ClusterConfig through the real Pulumi CLI, its provider process talking through the proxy.
  for (const backend of ["s3", "gcs"] as const) {
    it(`${backend}: ClusterConfig updates through the Pulumi CLI under lost answers and an unreachable server`, async function () {
      this.timeout(240_000);
      const { target } = bench.fixture(backend);
      const tally = await tallied(`faults: ${backend} pulumi ClusterConfig`, async (t) => {
        const bucket = await target.makeBucket();
        const store = `${target.scheme}://${bucket}`;
        const direct = openPath(store, target.options(target.server.endpoint)).join(CLUSTER);
        let nodeSize = "m5.large";
        const stack: Stack = await inlineStack("kstate-faults", uniqueName("faults"), async () => {
          const c = new ClusterConfig("faults", {
            store, name: CLUSTER, options: { zones: ["us-east-1a"], nodeSize, kubernetesVersion: "v1.30.2", cloud: "aws" },
          });
          return { configBase: c.configBase };
          // inlineStack takes envVars whole: the engine's (local backend, …) with the proxy's endpoint.
        }, { envVars: { ...engineEnv(newStateDir()), ...target.env(target.proxy.endpoint) } });
        const first = await stack.up();
        assert.equal(first.summary.result, "succeeded");

        const trials: { name: string; fault: () => Promise<void> }[] = [
          { name: "answers lost", fault: async () => void await target.proxy.addToxic({ type: "limit_data", stream: "downstream", toxicity: 0.5, attributes: { bytes: 0 } }) },
          { name: "unreachable", fault: () => target.proxy.setEnabled(false) },
        ];
        for (const [i, trial] of trials.entries()) {
          const before = { ig: await readOrUndefined(direct.join(IG)), config: await readOrUndefined(direct.join("config")) };
          nodeSize = ["m5.xlarge", "m5.2xlarge", "c5.large"][i]!;
          await trial.fault();
          let outcome: Outcome<unknown>;
          try {
            outcome = await settle(`pulumi up (${trial.name})`, () => stack.up());
          } finally {
            await target.proxy.heal();
          }
          t.trials++;
          t.operations++;
          if (outcome.ok) t.successes++;
          else t.failures++;
          const during = { ig: await readOrUndefined(direct.join(IG)), config: await readOrUndefined(direct.join("config")) };
          if (!outcome.ok) {
            const message = String((outcome.error as Error)?.message ?? outcome.error);
            const line = message.split("\n").find((l) => l.includes(`${target.scheme}://`)) ?? message.slice(-300);
            if (t.sampleErrors.length < 4) t.sampleErrors.push(`${trial.name}: ${line.trim().slice(0, 240)}`);
            if (!message.includes(`${store}/${CLUSTER}`)) flag(t, "unclearErrors", `pulumi up (${trial.name}) failed without naming ${store}/${CLUSTER}: ${message.slice(-1500)}`);
          }
          // Again, without the fault.
          const again = await settle(`pulumi up again (${trial.name})`, () => stack.up());
          if (!again.ok) flag(t, "notConverged", `pulumi up again after ${trial.name}: ${String((again.error as Error)?.message).slice(-1500)}`);
          const after = { ig: await readOrUndefined(direct.join(IG)), config: await readOrUndefined(direct.join("config")) };
          if (after.ig === undefined || after.config === undefined) {
            flag(t, "lostFiles", `${direct.url}: a document is gone after ${trial.name}`);
            continue;
          }
          if (yamlOf(after.ig).spec?.machineType !== nodeSize) flag(t, "notConverged", `${direct.join(IG).url}: machineType ${yamlOf(after.ig).spec?.machineType}, not ${nodeSize}`);
          for (const doc of ["ig", "config"] as const) {
            const url = direct.join(doc === "ig" ? IG : "config").url;
            if (during[doc] === undefined) flag(t, "lostFiles", `${url} gone after ${trial.name}`);
            else if (!same(during[doc], before[doc]) && !same(during[doc], after[doc])) flag(t, "corruptFiles", `${url}: after ${trial.name}, neither the old nor the new document`);
            if (outcome.ok && !same(during[doc], after[doc])) flag(t, "lostUpdates", `${url}: pulumi up reported success under ${trial.name}, the change was not all there`);
          }
        }
        // And settled: one more up changes nothing.
        const last = await stack.up();
        const changes = Object.keys(last.summary.resourceChanges ?? {});
        if (changes.some((c) => c !== "same")) flag(t, "notConverged", `a last pulumi up still changed: ${JSON.stringify(last.summary.resourceChanges)}`);
        await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
      });
      assert.equal(tally.failures >= 1, true, "the unreachable trial fails");
    });
  }
});
