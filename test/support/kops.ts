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
 * `kops create cluster` flags for AWS (regions, zones a-f of us-east-1, instance types offered in
 * every zone, images). No cloud is reachable here; kops's expansion logic itself is what the
 * tests compare against. `onRequest` sees each call.
 */
export async function startEc2Catalogue(onRequest?: (action: string, status: number) => void): Promise<{ endpoint: string; close(): Promise<void> }> {
  const ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
  const zones = "abcdef".split("").map((l) => `us-east-1${l}`);
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const q = new URLSearchParams(body);
      const action = q.get("Action") ?? "";
      const types = [...q.entries()].filter(([k]) => /^InstanceType(\.\d+)?$/.test(k)).map(([, v]) => v);
      const arch = (t: string) => (/^[a-z]+\d+g/.test(t) ? "arm64" : "x86_64");
      const wrap = (tag: string, inner: string) => `<${tag}Response ${ns}><requestId>offline</requestId>${inner}</${tag}Response>`;
      let xml: string | undefined;
      switch (action) {
        case "DescribeRegions":
          xml = wrap("DescribeRegions", "<regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item></regionInfo>");
          break;
        case "DescribeAvailabilityZones":
          xml = wrap("DescribeAvailabilityZones", `<availabilityZoneInfo>${zones.map((zone, i) => `<item><zoneName>${zone}</zoneName><zoneState>available</zoneState><regionName>us-east-1</regionName><zoneId>use1-az${i + 1}</zoneId><zoneType>availability-zone</zoneType></item>`).join("")}</availabilityZoneInfo>`);
          break;
        case "DescribeInstanceTypes":
          xml = wrap("DescribeInstanceTypes", `<instanceTypeSet>${types.map((t) => `<item><instanceType>${t}</instanceType><processorInfo><supportedArchitectures><item>${arch(t)}</item></supportedArchitectures></processorInfo><vCpuInfo><defaultVCpus>2</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>4096</sizeInMiB></memoryInfo><networkInfo><maximumNetworkInterfaces>3</maximumNetworkInterfaces><ipv4AddressesPerInterface>6</ipv4AddressesPerInterface></networkInfo></item>`).join("")}</instanceTypeSet>`);
          break;
        case "DescribeReservedInstancesOfferings":
          // Every type is offered in every zone (kops picks the first candidate offered in all the group's zones).
          xml = wrap("DescribeReservedInstancesOfferings", `<reservedInstancesOfferingsSet>${types.flatMap((t, i) => zones.map((zone, j) => `<item><reservedInstancesOfferingId>o${i}-${j}</reservedInstancesOfferingId><instanceType>${t}</instanceType><availabilityZone>${zone}</availabilityZone></item>`)).join("")}</reservedInstancesOfferingsSet>`);
          break;
        case "DescribeImages":
          xml = wrap("DescribeImages", `<imagesSet><item><imageId>ami-0123456789abcdef0</imageId><imageState>available</imageState><imageOwnerId>099720109477</imageOwnerId><architecture>x86_64</architecture><imageType>machine</imageType><name>${q.get("Filter.1.Value.1") ?? "image"}</name><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/sda1</rootDeviceName></item></imagesSet>`);
          break;
        case "DescribeVolumes":
          // `kops replace` of a Cluster looks for its etcd volumes: a cluster never updated has none.
          xml = wrap("DescribeVolumes", "<volumeSet/>");
          break;
      }
      onRequest?.(action, xml ? 200 : 400);
      if (!xml) {
        res.writeHead(400, { "Content-Type": "text/xml" });
        res.end(`<Response><Errors><Error><Code>Unsupported</Code><Message>${action} is not part of kstate's offline stand-in</Message></Error></Errors><RequestID>offline</RequestID></Response>`);
        return;
      }
      res.writeHead(200, { "Content-Type": "text/xml" });
      res.end(xml);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
