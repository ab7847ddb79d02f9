/** Shared setup for the keypair tests: stores on file:// and MinIO, certificates made by openssl. */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { parseYamlValues } from "../../src/store/yaml";
import { makeS3Bucket, s3Options } from "./env";
import { MINIO_PASSWORD, MINIO_USER } from "./servers";

const run = promisify(execFile);

export const keypairStores: Record<string, () => Promise<{ url: string; env: Record<string, string> }>> = {
  "file://": async () => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pki-"))}`, env: {} }),
  "s3 (MinIO)": async () => ({
    url: `s3://${await makeS3Bucket()}`,
    env: { S3_ENDPOINT: s3Options().endpoint!, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: MINIO_USER, S3_SECRET_ACCESS_KEY: MINIO_PASSWORD },
  }),
};

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
