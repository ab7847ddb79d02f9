// A state store bucket on S3 or an S3-compatible server. The endpoint and credentials come from
// the environment (S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, or the AWS chain), never
// from the program.
import * as pulumi from "@pulumi/pulumi";
import * as kstate from "kstate";

export = async () => {
  const config = new pulumi.Config();
  const store = new kstate.StateStore("s3", {
    url: config.get("storeUrl") ?? `s3://kstate-example-${pulumi.getStack()}`,
    versioning: true,
    encryption: "AES256",
    forceDestroy: config.getBoolean("forceDestroy") ?? false,
  });
  return { storeUrl: store.url, versioning: store.versioning, encryption: store.encryption, writePolicy: store.writePolicy };
};
