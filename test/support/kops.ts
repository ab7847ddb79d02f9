/**
 * The real kops binary (built by scripts/tools.sh), run against kstate's stores.
 */
import { execFile } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import { promisify } from "node:util";
import { MINIO_PASSWORD, MINIO_USER, toolPath } from "./servers";
import { s3Options } from "./env";

const run = promisify(execFile);
export const CHANNEL = `file://${path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "kops", "channel.yaml")}`;

export interface KopsResult {
  stdout: string;
  stderr: string;
}

/** kops's environment for a MinIO store (its S3_* variables) and no cloud credentials of ours. */
export function kopsEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    S3_ENDPOINT: s3Options().endpoint!,
    S3_REGION: "us-east-1",
    S3_ACCESS_KEY_ID: MINIO_USER,
    S3_SECRET_ACCESS_KEY: MINIO_PASSWORD,
    KOPS_RUN_TOO_NEW_VERSION: "1",
    ...extra,
  };
}

export async function kops(args: string[], env: Record<string, string> = kopsEnv()): Promise<KopsResult> {
  try {
    const { stdout, stderr } = await run(toolPath("kops"), args, { env, maxBuffer: 16 << 20, timeout: 120_000 });
    return { stdout, stderr };
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`kops ${args.join(" ")} failed: ${err.message}\n${err.stderr ?? ""}`);
  }
}

/**
 * A loopback stand-in for the read-only catalogue calls kops makes to EC2 while it expands
 * `kops create cluster` flags for AWS (regions, zones, instance types, images). No cloud is
 * reachable here; kops's expansion logic itself is what the tests compare against.
 */
export async function startEc2Catalogue(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const q = new URLSearchParams(body);
      const action = q.get("Action") ?? "";
      const types = [...q.entries()].filter(([k]) => k.startsWith("InstanceType")).map(([, v]) => v);
      let xml: string;
      switch (action) {
        case "DescribeRegions":
          xml = `<DescribeRegionsResponse ${ns}><requestId>r</requestId><regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item></regionInfo></DescribeRegionsResponse>`;
          break;
        case "DescribeAvailabilityZones":
          xml = `<DescribeAvailabilityZonesResponse ${ns}><requestId>r</requestId><availabilityZoneInfo>${"abcdef".split("").map((z, i) => `<item><zoneName>us-east-1${z}</zoneName><zoneState>available</zoneState><regionName>us-east-1</regionName><zoneId>use1-az${i + 1}</zoneId><zoneType>availability-zone</zoneType></item>`).join("")}</availabilityZoneInfo></DescribeAvailabilityZonesResponse>`;
          break;
        case "DescribeInstanceTypes":
          xml = `<DescribeInstanceTypesResponse ${ns}><requestId>r</requestId><instanceTypeSet>${types.map((t) => `<item><instanceType>${t}</instanceType><processorInfo><supportedArchitectures><item>x86_64</item></supportedArchitectures></processorInfo><vCpuInfo><defaultVCpus>4</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>16384</sizeInMiB></memoryInfo><networkInfo><maximumNetworkInterfaces>4</maximumNetworkInterfaces><ipv4AddressesPerInterface>15</ipv4AddressesPerInterface></networkInfo></item>`).join("")}</instanceTypeSet></DescribeInstanceTypesResponse>`;
          break;
        case "DescribeReservedInstancesOfferings":
          xml = `<DescribeReservedInstancesOfferingsResponse ${ns}><requestId>r</requestId><reservedInstancesOfferingsSet>${types.map((t, i) => `<item><reservedInstancesOfferingId>o${i}</reservedInstancesOfferingId><instanceType>${t}</instanceType></item>`).join("")}</reservedInstancesOfferingsSet></DescribeReservedInstancesOfferingsResponse>`;
          break;
        case "DescribeImages":
          xml = `<DescribeImagesResponse ${ns}><requestId>r</requestId><imagesSet><item><imageId>ami-0123456789abcdef0</imageId><imageState>available</imageState><imageOwnerId>099720109477</imageOwnerId><architecture>x86_64</architecture><imageType>machine</imageType><name>${q.get("Filter.1.Value.1") ?? "image"}</name><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/sda1</rootDeviceName></item></imagesSet></DescribeImagesResponse>`;
          break;
        default:
          res.writeHead(400, { "Content-Type": "text/xml" });
          res.end(`<Response><Errors><Error><Code>Unsupported</Code><Message>${action} is not part of the catalogue stand-in</Message></Error></Errors><RequestID>r</RequestID></Response>`);
          return;
      }
      res.writeHead(200, { "Content-Type": "text/xml" });
      res.end(xml);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
