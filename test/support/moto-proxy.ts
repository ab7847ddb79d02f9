/**
 * A plain HTTP proxy in front of moto (server mode) for the real kops: it passes every call
 * through unchanged except the two replies in which moto 5.2.5 differs from AWS in a way kops
 * trips over (see `correctWarmPool` and `correctSubnets`), records which API action each call was,
 * and can make one action fail on demand (`fail`), answering in the failing service's error shape.
 *
 * An action is named by the X-Amz-Target header (JSON protocols: SQS, EventBridge), else by the
 * Action= form field (query protocols: EC2, AutoScaling, IAM, ELBv2, STS), else by the URL's
 * Action= query; calls with none (REST protocols) are recorded as `<service> <METHOD> <path>`.
 * The service comes from the SigV4 credential scope, which is also how moto routes a call sent
 * to its bare address.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface AwsCall {
  /** The signing name: ec2, autoscaling, iam, elasticloadbalancing, sqs, events, sts, … */
  service: string;
  action: string;
  /** The status the client got (0 when the exchange broke off). */
  status: number;
  /** When the call arrived (Date.now()). */
  at: number;
}

export interface AwsErrorAnswer {
  status: number;
  code: string;
  message?: string;
}

interface Request {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface Answer {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

export class MotoProxy {
  private readonly calls: AwsCall[] = [];
  private readonly failures = new Map<string, AwsErrorAnswer>();
  /** subnet ID → the PrivateDnsHostnameTypeOnLaunch kops set on it (moto forgets it). */
  private readonly hostnameTypes = new Map<string, string>();

  private constructor(private readonly server: http.Server, private readonly agent: http.Agent, private readonly upstream: URL) {}

  /** `http://127.0.0.1:<port>`: what clients get as AWS_ENDPOINT_URL. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(upstream: string): Promise<MotoProxy> {
    const agent = new http.Agent({ keepAlive: true });
    let proxy: MotoProxy | undefined;
    const server = http.createServer((req, res) => {
      void proxy!.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    proxy = new MotoProxy(server, agent, new URL(upstream));
    return proxy;
  }

  /** Every call so far, in the order they arrived. */
  seen(): readonly AwsCall[] {
    return this.calls;
  }

  /** Answers every call of `action` with `answer` until the returned function is called. */
  fail(action: string, answer: AwsErrorAnswer): () => void {
    this.failures.set(action, answer);
    return () => {
      if (this.failures.get(action) === answer) this.failures.delete(action);
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const call: AwsCall = { service: "", action: "", status: 0, at: Date.now() };
    try {
      const request: Request = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body: await readAll(req) };
      const form = formOf(request);
      call.service = serviceOf(request.headers);
      call.action = actionOf(request, form, call.service);
      this.calls.push(call);
      const failure = this.failures.get(call.action);
      let answer: Answer;
      if (failure) {
        answer = errorAnswer(call.service, request.headers, failure);
      } else {
        if (call.action === "ModifySubnetAttribute") this.rememberHostnameType(form);
        answer = await this.forward(request);
        if (call.action === "DescribeWarmPool") answer = await this.correctWarmPool(request, form, answer);
        if (call.action === "DescribeSubnets") answer = this.correctSubnets(answer);
      }
      call.status = answer.status;
      res.writeHead(answer.status, { ...answer.headers, "content-length": answer.body.length });
      res.end(answer.body);
    } catch (e) {
      call.status = 502;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`moto proxy: ${this.upstream.href}: ${(e as Error).message}`);
      else res.destroy();
    }
  }

  private forward(request: Request): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const out = http.request({
        host: this.upstream.hostname, port: this.upstream.port, method: request.method, path: request.url, agent: this.agent,
        // Plain bodies only: the replies corrected here are rewritten as text.
        headers: { ...request.headers, "accept-encoding": "identity", "content-length": request.body.length },
      }, (answer) => {
        readAll(answer).then((body) => {
          const h: http.OutgoingHttpHeaders = { ...answer.headers };
          delete h["content-length"];
          delete h["transfer-encoding"];
          delete h["connection"];
          delete h["keep-alive"];
          resolve({ status: answer.statusCode ?? 502, headers: h, body });
        }, reject);
      });
      out.once("error", reject);
      out.end(request.body);
    });
  }

  /**
   * AutoScaling DescribeWarmPool for a group that does not exist: moto raises an IndexError and
   * answers 500, where AWS answers 400 ValidationError, which kops reads as "no warm pool yet"
   * (awstasks.WarmPool.Find). With the 500 the SDK retries the call, then kops retries the task
   * for 10 minutes and gives up. Only a 5xx for a group moto confirms absent is rewritten.
   */
  private async correctWarmPool(request: Request, form: URLSearchParams, answer: Answer): Promise<Answer> {
    if (answer.status < 500) return answer;
    const group = form.get("AutoScalingGroupName") ?? "";
    const query = new URLSearchParams({ Action: "DescribeAutoScalingGroups", Version: "2011-01-01", "AutoScalingGroupNames.member.1": group });
    const check = await this.forward({ ...request, body: Buffer.from(query.toString()) });
    if (check.status !== 200 || /<AutoScalingGroupName>/.test(check.body.toString())) return answer;
    return errorAnswer("autoscaling", request.headers, { status: 400, code: "ValidationError", message: `AutoScalingGroup name not found - AutoScalingGroup '${group}' not found` });
  }

  private rememberHostnameType(form: URLSearchParams): void {
    const subnet = form.get("SubnetId");
    const type = form.get("PrivateDnsHostnameTypeOnLaunch");
    if (subnet && type) this.hostnameTypes.set(subnet, type);
  }

  /**
   * EC2 ModifySubnetAttribute with PrivateDnsHostnameTypeOnLaunch: moto accepts the call and
   * ignores the value, so DescribeSubnets keeps answering `ip-name` and every later kops plan
   * shows `ResourceBasedNaming false -> true` on each subnet. The value kops set is remembered
   * (`rememberHostnameType`) and put back here, as AWS would report it.
   */
  private correctSubnets(answer: Answer): Answer {
    if (answer.status !== 200 || this.hostnameTypes.size === 0) return answer;
    const xml = mapSubnetItems(answer.body.toString(), (item) => {
      const type = this.hostnameTypes.get(/<subnetId>([^<]+)<\/subnetId>/.exec(item)?.[1] ?? "");
      if (type === undefined) return item;
      if (/<hostnameType>[^<]*<\/hostnameType>/.test(item)) return item.replace(/<hostnameType>[^<]*<\/hostnameType>/, `<hostnameType>${type}</hostnameType>`);
      const options = `<privateDnsNameOptionsOnLaunch><hostnameType>${type}</hostnameType></privateDnsNameOptionsOnLaunch>`;
      return item.replace(/<\/item>$/, `${options}</item>`);
    });
    return { ...answer, body: Buffer.from(xml) };
  }
}

/**
 * `xml` with each `<item>` directly inside `<subnetSet>` replaced by `edit(item)`. Items nest
 * (tags, IPv6 associations), and a subnet's `<subnetId>` can follow them, so items are matched
 * by depth.
 */
function mapSubnetItems(xml: string, edit: (item: string) => string): string {
  const start = xml.indexOf("<subnetSet>");
  if (start < 0) return xml;
  let out = xml.slice(0, start);
  let depth = 0;
  let itemStart = -1;
  let last = start;
  const tags = /<(\/?)(item|subnetSet)>/g;
  tags.lastIndex = start + "<subnetSet>".length;
  for (let m = tags.exec(xml); m; m = tags.exec(xml)) {
    if (m[2] === "subnetSet") break;
    if (m[1] === "") {
      if (depth++ === 0) itemStart = m.index;
    } else if (--depth === 0) {
      const end = m.index + m[0].length;
      out += xml.slice(last, itemStart) + edit(xml.slice(itemStart, end));
      last = end;
    }
  }
  return out + xml.slice(last);
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

function formOf(request: Request): URLSearchParams {
  const type = String(request.headers["content-type"] ?? "");
  return type.startsWith("application/x-www-form-urlencoded") ? new URLSearchParams(request.body.toString()) : new URLSearchParams();
}

function serviceOf(headers: http.IncomingHttpHeaders): string {
  return /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\/aws4_request/.exec(String(headers.authorization ?? ""))?.[1] ?? "unknown";
}

function actionOf(request: Request, form: URLSearchParams, service: string): string {
  const target = request.headers["x-amz-target"];
  if (typeof target === "string" && target) return target.slice(target.lastIndexOf(".") + 1);
  const url = new URL(request.url, "http://proxy");
  return form.get("Action") ?? url.searchParams.get("Action") ?? `${service} ${request.method} ${url.pathname}`;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `failure` in the shape the service's protocol uses for errors, as the AWS SDKs parse them. */
function errorAnswer(service: string, headers: http.IncomingHttpHeaders, failure: AwsErrorAnswer): Answer {
  const message = failure.message ?? `${failure.code} (injected by kstate's moto proxy)`;
  const requestId = `kstate-${Date.now().toString(36)}`;
  const target = headers["x-amz-target"];
  if (typeof target === "string" && target) {
    const type = String(headers["content-type"] ?? "application/x-amz-json-1.1");
    return {
      status: failure.status,
      headers: { "content-type": type, "x-amzn-requestid": requestId, "x-amzn-errortype": failure.code, "x-amzn-query-error": `${failure.code};${failure.status < 500 ? "Sender" : "Receiver"}` },
      body: Buffer.from(JSON.stringify({ __type: failure.code, message })),
    };
  }
  const xml = service === "ec2"
    ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(failure.code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
    : `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>${failure.status < 500 ? "Sender" : "Receiver"}</Type><Code>${escapeXml(failure.code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status: failure.status, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId }, body: Buffer.from(xml) };
}
