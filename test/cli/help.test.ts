import * as assert from "node:assert/strict";
import { kstate } from "../support/cli";

const COMMANDS = ["get", "create", "edit", "export", "pull", "diff", "apply", "history", "rollback", "delete", "migrate", "rekey"];

describe("kstate --help", function () {
  for (const c of COMMANDS) {
    it(`${c} --help and help ${c} print the command's usage and exit 0`, async function () {
      for (const argv of [[c, "--help"], [c, "-h"], ["help", c]]) {
        const r = await kstate(argv);
        assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^Usage:[\\s\\S]*kstate ${c === "diff" ? "diff" : c}`), argv.join(" "));
      }
    });
  }

  it("lists every command and the exit codes; an unknown command is a usage error", async function () {
    const top = await kstate(["--help"]);
    assert.equal(top.code, 0);
    for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`\\n  ${c} +\\S`));
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
