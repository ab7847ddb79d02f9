/**
 * The engine's log, as the provider plugin writes to it: each message under the resource it is
 * about (the URN of the call that made it), in order. The engine prints these with the preview and
 * the update, where it keeps a plugin's standard error to its debug log.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import * as path from "node:path";
import type * as Grpc from "@grpc/grpc-js";

// The gRPC library @pulumi/pulumi itself loads (its generated client checks the credentials' class).
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [pulumiDir] })) as typeof Grpc;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb") as { EngineClient: new (address: string, credentials: Grpc.ChannelCredentials) => EngineClient };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const engproto = require("@pulumi/pulumi/proto/engine_pb") as { LogRequest: new () => LogRequest; LogSeverity: { INFO: number } };

interface LogRequest {
  setSeverity(s: number): void;
  setMessage(m: string): void;
  setUrn(u: string): void;
}

interface EngineClient {
  log(req: LogRequest, done: (err: Error | null) => void): void;
}

export class EngineLog {
  private readonly client: EngineClient;
  private readonly urn = new AsyncLocalStorage<string>();
  private last: Promise<void> = Promise.resolve();

  constructor(address: string) {
    this.client = new engrpc.EngineClient(address, grpc.credentials.createInsecure());
  }

  /** Runs `fn` with the messages it makes logged under `urn`. */
  within<T>(urn: string, fn: () => Promise<T>): Promise<T> {
    return this.urn.run(urn, fn);
  }

  /** Logs `text` at info level, under the URN of the call it is made in; a message the engine refuses goes to standard error. */
  info(text: string): void {
    const req = new engproto.LogRequest();
    req.setSeverity(engproto.LogSeverity.INFO);
    req.setMessage(text);
    req.setUrn(this.urn.getStore() ?? "");
    this.last = this.last.then(() => new Promise<void>((resolve) => this.client.log(req, (err) => {
      if (err) process.stderr.write(`${text}\n`);
      resolve();
    })));
  }

  /** Resolves once every message logged so far has reached the engine. */
  flushed(): Promise<void> {
    return this.last;
  }
}
