/**
 * Where a bucket lives, asked as kops asks it: GetBucketLocation from the default region, and
 * where that is denied, the region a HEAD of the bucket reports (`x-amz-bucket-region`, also on
 * a refusal or a redirect). Over the wire path when the credentials are static, so a command on
 * AWS S3 without a configured region does not load the SDK for this one question; through the
 * SDK otherwise, whose chain supplies the credentials.
 */
import type * as S3 from "@aws-sdk/client-s3";
import { headerOf, type S3Wire } from "./wire";

type S3Module = typeof import("@aws-sdk/client-s3");

/** GetBucketLocation's answer as a region: empty is `us-east-1`, `EU` is `eu-west-1`. */
function regionOfConstraint(constraint: string | undefined): string {
  return !constraint ? "us-east-1" : constraint === "EU" ? "eu-west-1" : constraint;
}

/** The region named by `x-amz-bucket-region` in an answer or an error, if any. */
function regionHeader(answer: unknown): string | undefined {
  const headers = (answer as { $response?: { headers?: Record<string, string | string[] | undefined> } } | undefined)?.$response?.headers;
  return headers ? headerOf(headers, "x-amz-bucket-region") : undefined;
}

/** Asks over the wire path (`wire` signs for the default region, on AWS S3's own endpoint). */
export async function bucketRegionOverWire(wire: S3Wire): Promise<string> {
  try {
    const out = await wire.send({ method: "GET", query: { location: "" } });
    // `<LocationConstraint xmlns="…">eu-west-2</LocationConstraint>`, or an empty element for us-east-1.
    return regionOfConstraint(/<LocationConstraint[^>]*>([^<]*)<\/LocationConstraint>/.exec(out.body.toString("utf8"))?.[1]);
  } catch (first) {
    try {
      const out = await wire.send({ method: "HEAD" });
      const region = headerOf(out.headers, "x-amz-bucket-region");
      if (region) return region;
    } catch (e) {
      const region = regionHeader(e);
      if (region) return region;
    }
    throw first;
  }
}

/** Asks through the SDK, with a client for the default region. */
export async function bucketRegionThroughSdk(sdk: S3Module, probe: S3.S3Client, bucket: string): Promise<string> {
  try {
    const out = await probe.send(new sdk.GetBucketLocationCommand({ Bucket: bucket }));
    return regionOfConstraint(out.LocationConstraint as string | undefined);
  } catch (first) {
    try {
      const out = await probe.send(new sdk.HeadBucketCommand({ Bucket: bucket }));
      if (out.BucketRegion) return out.BucketRegion;
    } catch (e) {
      const region = regionHeader(e);
      if (region) return region;
    }
    throw first;
  }
}
