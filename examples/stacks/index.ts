// One program, one store per stack: Pulumi.dev.yaml and Pulumi.prod.yaml give each environment
// its own bucket and settings.
import * as pulumi from "@pulumi/pulumi";
import * as kstate from "kstate";

export = async () => {
  const config = new pulumi.Config();
  const store = new kstate.StateStore("state", {
    url: config.require("storeUrl"),
    versioning: config.getBoolean("versioning") ?? true,
    forceDestroy: config.getBoolean("forceDestroy") ?? false,
  });
  return { stack: pulumi.getStack(), storeUrl: store.url, versioning: store.versioning, forceDestroy: store.forceDestroy };
};
