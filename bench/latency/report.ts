/** The "Latency" section of bench/README.md, from bench/results/latency.json's figures. */
import * as fs from "node:fs";
import type { Row } from "./rows";

export interface ToolResult {
  tool: string;
  wallMs: number;
  cpuMs: number;
  requests: number;
  chain: number;
  /** Requests by method in the median run. */
  methods: Record<string, number>;
  runs: { wallMs: number; cpuMs: number; requests: number; chain: number }[];
}

export interface RowResult {
  id: string;
  /** When the row finished. */
  date: string;
  runs: number;
  title: string;
  floor: Row["floor"];
  goal?: Row["goal"] & { measured: number; met: boolean };
  tools: ToolResult[];
  /** kstate's median wall time over each peer's. */
  ratios: Record<string, number>;
}

interface Results {
  date: string;
  machine: { cpus: number; loadAverageAtStart?: number[]; loadAverageAtEnd?: number[] };
  runs: number;
  migrateRuns: number;
  store: { cluster: { files: number }; bigCluster: { files: number }; manyClusters: { clusters: number; filesEach: number } };
  latencies: Record<string, RowResult[]>;
}

function levelTable(rows: RowResult[]): string {
  const lines = ["| command | tool | wall ms | kstate ÷ tool | CPU ms | requests | chain | floor |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"];
  for (const row of rows) {
    row.tools.forEach((t, i) => {
      const ratio = i === 0 ? "" : String(row.ratios[t.tool]);
      lines.push(`| ${i === 0 ? row.title : ""} | ${t.tool} | ${t.wallMs} | ${ratio} | ${t.cpuMs} | ${t.requests} | ${t.chain} | ${i === 0 ? row.floor.chain : ""} |`);
    });
  }
  return lines.join("\n");
}

function goals(rows: RowResult[]): string {
  const lines = ["| goal | measured | met |", "| --- | ---: | --- |"];
  for (const row of rows) {
    if (row.goal) lines.push(`| ${row.title}: at most ${row.goal.ratio}x ${row.goal.peer} | ${row.goal.measured}x | ${row.goal.met ? "yes" : "no"} |`);
  }
  for (const row of rows.filter((r) => ["merge", "apply", "migrate63", "migrate2000"].includes(r.id))) {
    const kstate = row.tools[0]!;
    lines.push(`| ${row.title}: chain at most the floor, ${row.floor.chain} | ${kstate.chain} | ${kstate.chain <= row.floor.chain ? "yes" : "no"} |`);
  }
  return lines.join("\n");
}

/** When each row ended (KSTATE_LATENCY_ROWS re-measures some rows and keeps the others'). */
function runDates(results: Results): string {
  const rows = Object.entries(results.latencies).flatMap(([ms, list]) => list.map((r) => `${r.id}${Object.keys(results.latencies).length > 1 ? ` (${ms} ms)` : ""} ${r.date.slice(0, 16).replace("T", " ")} (${r.runs} runs)`));
  return `\nEach row ended (UTC), with the runs each tool made in it: ${rows.join(", ")}; the load average is that of the last run.`;
}

export function writeLatencyTable(readme: string, results: Results): void {
  const levels = Object.keys(results.latencies).map(Number).sort((a, b) => b - a);
  const floors = (results.latencies[String(levels[0])] ?? []).map((r) => `- ${r.title}: ${r.floor.chain}: ${r.floor.reason}.`).join("\n");
  const at40 = results.latencies["40"];
  const table = `## Latency (\`npm run bench:latency\`, ${results.date.slice(0, 10)})

MinIO behind toxiproxy, which adds the latency shown to each direction (a request's round trip
gains twice that), with a counting proxy in front that logs each request's start and end. Each
tool runs as its own process; at each latency the tools of a row run interleaved, each several times
(each row's count is listed below), and the table shows medians: wall time, the tool's own CPU (user + system),
its requests, and their longest sequential chain: the most requests that ran one after another,
each starting at or after the one before it ended (requests issued together overlap and count
once). "kstate ÷ tool" is kstate's median wall time over the peer's. The store: one cluster of
${results.store.cluster.files} files (as \`kstate create cluster\` writes it on Hetzner, one zone, filled up with kops-like keysets,
secrets, addons and backups), one of ${results.store.bigCluster.files.toLocaleString("en-US")} files, and ${results.store.manyClusters.clusters} clusters of ${results.store.manyClusters.filesEach} files each; ${results.machine.cpus} cores shared by
the tools, the proxies and MinIO${results.machine.loadAverageAtStart ? ` (and by other work: load average ${results.machine.loadAverageAtStart[0]} at the start, ${results.machine.loadAverageAtEnd?.[0]} at the end)` : ""}. The writing rows alternate between two values, so every run
writes a change; kops's peer for them is \`kops replace -f\` of the changed instance group. The
peers for \`export\` are \`kops get all -o yaml\` (kops has no export) and \`aws s3 sync\` of the files
export copies. Migrations go to a fresh bucket on the same MinIO; rclone runs \`sync --checksum\`.${runDates(results)}

Floors (the chain a command cannot go below):
${floors}

${levels.map((ms) => `### ${ms} ms each way\n\n${levelTable(results.latencies[String(ms)]!)}`).join("\n\n")}
${at40 ? `\nGoals at 40 ms each way:\n\n${goals(at40)}\n` : ""}`;
  const existing = fs.existsSync(readme) ? fs.readFileSync(readme, "utf8") : "# Benchmarks\n";
  const start = existing.indexOf("## Latency");
  const rest = start < 0 ? "" : existing.slice(start).replace(/^## Latency[\s\S]*?(?=\n## |$)/, "");
  fs.writeFileSync(readme, `${(start < 0 ? existing : existing.slice(0, start)).trimEnd()}\n\n${table}${rest}`);
}
