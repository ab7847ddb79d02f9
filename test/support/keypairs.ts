/** Shared setup for the keypair tests: stores on file:// and MinIO, certificates made by openssl. */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { parseYamlValues } from "../../src/store/yaml";
import { storesOf } from "./stores";

const run = promisify(execFile);

export const keypairStores = storesOf("file", "s3");

/** A self-signed CA made by openssl (an outside tool, so kstate's parsing is checked against it). */
export async function opensslCa(dir: string, name: string, cn: string, serial?: string, algorithm: "rsa" | "ec" = "rsa"): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const newKey = algorithm === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await run("openssl", ["req", "-x509", ...newKey, "-nodes", "-keyout", key, "-out", cert, "-subj", `/CN=${cn}`, "-days", "30",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", ...(serial ? ["-set_serial", serial] : [])]);
  return { cert, key };
}

type Item = Record<string, unknown>;

/** `get keypairs -o yaml` output as a list sorted by keyset and id (kops lists in map order). */
export function keypairList(yamlText: string): Item[] {
  const list = (parseYamlValues(yamlText, "get keypairs -o yaml") ?? []) as Item[];
  return [...list].sort((a, b) => `${a.name}/${a.id}`.localeCompare(`${b.name}/${b.id}`));
}
