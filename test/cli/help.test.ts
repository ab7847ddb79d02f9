import * as assert from "node:assert/strict";
import { kstate } from "../support/cli";

/** The (sub)commands `kstate --help` lists: `get clusters|cluster|ig|all` is ["get", ["clusters", …]]. */
function listed(top: string): [string, string[]][] {
  const block = top.slice(top.indexOf("Commands:\n") + "Commands:\n".length).split("\n\n")[0]!;
  return block.split("\n").map((line) => {
    const [name, subs] = line.trim().split(/\s{2,}/)[0]!.split(" ");
    return [name!, subs ? subs.split("|") : []];
  });
}

/** The Usage block: from `Usage:` to the first blank line. */
function usageOf(help: string): string {
  assert.match(help, /^Usage:/);
  return help.split("\n\n")[0]!;
}

describe("kstate --help", function () {
  it("every command and subcommand kstate --help lists has help of its own, whose Usage names it first", async function () {
    const top = await kstate(["--help"]);
    assert.equal(top.code, 0);
    const commands = listed(top.stdout);
    assert.deepEqual(commands.map(([c, subs]) => [c, ...subs].join(" ")), [
      "get clusters cluster ig all", "get secrets", "get keypairs keypair", "get sshpublickeys sshpublickey ssh", "create cluster",
      "create ig instancegroup", "create secret", "create keypair", "create sshpublickey", "promote keypair", "distrust keypair",
      "trust keypair", "edit cluster ig", "export", "export kubeconfig", "pull", "diff", "apply", "history", "rollback",
      "delete cluster", "delete ig instancegroup", "delete secret", "delete sshpublickey", "update cluster", "migrate", "encryption show set clear", "rekey",
    ]);
    const helps = new Map<string, string>();
    for (const [c, subs] of commands) {
      const words = subs.length ? subs.map((s) => `${c} ${s}`) : [c];
      let own: string | undefined;
      for (const w of words) {
        for (const argv of [[...w.split(" "), "--help"], [...w.split(" "), "-h"], ["help", ...w.split(" ")], [...w.split(" "), "--name", "x", "--help"]]) {
          const r = await kstate(argv);
          assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
          own ??= r.stdout;
          assert.equal(r.stdout, own, `${argv.join(" ")}: the same help as ${words[0]} --help`);
          const usage = usageOf(r.stdout);
          assert.match(usage, new RegExp(`^Usage:\\s+kstate ${words[0]}\\b`), `${argv.join(" ")}: the first usage names ${words[0]}`);
          assert.match(usage, new RegExp(`(^|\\n|\\s)kstate ${w}\\b`), `${argv.join(" ")}: the usage names ${w}`);
        }
      }
      for (const [other, text] of helps) assert.notEqual(own, text, `${words[0]} and ${other} have help of their own`);
      helps.set(words[0]!, own!);
    }
    // A command's own words, without a subcommand, give its first entry's help.
    assert.equal((await kstate(["get", "--help"])).stdout, helps.get("get clusters"));
    assert.equal((await kstate(["create", "--help"])).stdout, helps.get("create cluster"));
    assert.equal((await kstate(["delete", "--help"])).stdout, helps.get("delete cluster"));
    // A usage error points at the help of the subcommand that was typed.
    const bad = await kstate(["get", "secrets", "--bogus"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\nRun `kstate get secrets --help` for its options\.\n$/);
  });

  it("lists every command and the exit codes; an unknown command is a usage error", async function () {
    const top = await kstate(["--help"]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Exit codes: 0 success, 1 failure, 2 usage error, 3 conflict, 4 nothing to do/);
    // Where the store and the cluster's name come from, kops's config file and variable included.
    assert.match(top.stdout, /The store is --state URL, else\nKSTATE_STATE_STORE, else KOPS_STATE_STORE, else kops_state_store in kops's config file\n\(--config FILE, else ~\/\.kops\.yaml, else ~\/\.kops\/config\)/);
    assert.match(top.stdout, /the\nargument, else --name NAME, else KOPS_CLUSTER_NAME/);
    const unknown = await kstate(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.match((await kstate(["--version"])).stdout, /^kstate \d+\.\d+\.\d+\n$/);
  });
});
