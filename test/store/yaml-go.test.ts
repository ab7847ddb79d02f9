/**
 * kops reads YAML with Go's YAML 1.1 reader: kstate reads and writes values as it does, so a
 * document means the same to both.
 */
import * as assert from "node:assert/strict";
import { newDocument, parseYaml, stringifyYaml } from "../../src/store/yaml";

const value = (text: string) => (parseYaml(`a: ${text}\n`, "t").toJS() as { a: unknown }).a;

describe("YAML as Go's reader takes it", function () {
  it("Go's integer forms are numbers; base-60 forms are strings", function () {
    assert.equal(value("0o10"), 8);
    assert.equal(value("0X1F"), 31);
    assert.equal(value("-0b11"), -3);
    assert.equal(value("1_000"), 1000);
    assert.equal(value("010"), 8);
    assert.equal(value("1:30"), "1:30");
    assert.equal(value("yes"), true);
    assert.equal(value("2024-01-02"), "2024-01-02");
  });

  it("a float needs a digit before its exponent, as for Go: `.`, `-.`, `e5` and `.e5` are strings, read and written plain (kops's managedFields key `.`)", function () {
    for (const s of [".", "-.", "+.", "._", "e5", ".e5", "E5", "1e"]) assert.equal(value(s), s, s);
    for (const [s, n] of [["1.5", 1.5], [".5", 0.5], ["1.", 1], ["1e3", 1000], ["-1.5e3", -1500], ["1_000.5", 1000.5], ["._5", 0.5]] as const) assert.equal(value(s), n, s);
    assert.equal(value(".inf"), Infinity);
    assert.deepEqual(parseYaml('f:\n  .: {}\n', "t").toJS(), parseYaml('f:\n  ".": {}\n', "t").toJS());
    assert.equal(stringifyYaml(newDocument({ f: { ".": {} }, g: ".", h: "e5" })), "f:\n  .: {}\ng: .\nh: e5\n");
  });

  it("strings Go would read as numbers are written quoted; others stay plain", function () {
    const text = stringifyYaml(newDocument({ a: "0o10", b: "0X10", c: "1e+1_0", d: "-0X1", e: ".5", f: "1_0", g: "v1.30.2", h: "1.30.2", i: "1:30" }));
    assert.equal(text, 'a: "0o10"\nb: "0X10"\nc: "1e+1_0"\nd: "-0X1"\ne: ".5"\nf: "1_0"\ng: v1.30.2\nh: 1.30.2\ni: 1:30\n');
    for (const [k, v] of Object.entries(parseYaml(text, "t").toJS() as Record<string, unknown>)) assert.equal(typeof v, "string", k);
  });

  it("keys Go cannot take and tags it does not read are refused, naming the line", function () {
    assert.throws(() => parseYaml("a: 1\nb:\n  ~: x\n", "f.yaml"), /f\.yaml: a null key at line 3; kops's map keys are strings/);
    assert.throws(() => parseYaml("a:\n  ? [x]\n  : y\n", "f.yaml"), /f\.yaml: a list or map as a key at line 2/);
    assert.throws(() => parseYaml("a: !!omap [x: 1]\n", "f.yaml"), /f\.yaml: invalid YAML at line 1, column 4: Unresolved tag: tag:yaml.org,2002:omap/);
    assert.throws(() => parseYaml("a: !!binary aGVsbG8=\n", "f.yaml"), /Unresolved tag: tag:yaml.org,2002:binary/);
  });

  it("a file of two documents is refused in words of kops's files, not of the parser's API", function () {
    assert.throws(() => parseYaml("a: 1\n---\nb: 2\n", "f.yaml"), (e: unknown) => /^f\.yaml: invalid YAML at line 2, column 1: more than one document \(a kops file holds one\)$/.test((e as Error).message) && !/parseAllDocuments/.test((e as Error).message));
  });
});
