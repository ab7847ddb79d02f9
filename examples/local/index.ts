// The embedded default: a state store in a local folder, managed by Pulumi's local backend.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as kstate from "kstate";

export = async () => {
  const config = new pulumi.Config();
  // A folder under the directory Pulumi runs in, unless the stack says otherwise.
  const storeUrl = config.get("storeUrl") ?? `file://${path.resolve(".kstate", "store")}`;

  const store = new kstate.StateStore("local", { url: storeUrl, forceDestroy: config.getBoolean("forceDestroy") ?? false });

  return { storeUrl: store.url, versioning: store.versioning, encryption: store.encryption };
};
