// A state store bucket on Google Cloud Storage, or an emulator named by STORAGE_EMULATOR_HOST.
import * as pulumi from "@pulumi/pulumi";
import * as kstate from "kstate";

export = async () => {
  const config = new pulumi.Config();
  const store = new kstate.StateStore("gcs", {
    url: config.get("storeUrl") ?? `gs://kstate-example-${pulumi.getStack()}`,
    forceDestroy: config.getBoolean("forceDestroy") ?? false,
  });
  return { storeUrl: store.url, versioning: store.versioning, encryption: store.encryption, writeBindings: store.writeBindings };
};
