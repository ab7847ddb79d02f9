/** What the benchmarks share. */
import { s3Options } from "../test/support/env";
import { MINIO_PASSWORD, MINIO_USER } from "../test/support/servers";

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The environment for a command-line tool (kstate, kops, rclone, aws) run against the MinIO the
 * benchmark started, through kops's S3_* variables. A custom CA bundle in the environment makes
 * rclone's S3 client refuse its own transport; the servers here are plain HTTP on loopback.
 */
export function toolEnv(): NodeJS.ProcessEnv {
  const { AWS_CA_BUNDLE: _bundle, ...inherited } = process.env;
  return { ...inherited, S3_ENDPOINT: s3Options().endpoint!, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: MINIO_USER, S3_SECRET_ACCESS_KEY: MINIO_PASSWORD };
}
