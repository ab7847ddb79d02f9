// A user's program, as the package test compiles it in a fresh project (strict, without
// skipLibCheck) and deploys it: outputs and promises at every level of ClusterConfig's inputs.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, type IamPolicyDocument, StateStore } from "kstate";

export default async () => {
  const config = new pulumi.Config();
  const store = new StateStore("state", { url: config.require("storeUrl") });
  const zones: pulumi.Output<string[]> = pulumi.output(["us-east-1a", "us-east-1b"]);
  const cluster = new ClusterConfig("dev", {
    store: store.url,
    name: "dev.k8s.example.com",
    options: { cloud: "aws", zones, nodeSize: pulumi.output("m5.large"), kubernetesVersion: Promise.resolve("v1.30.2") },
    spec: { kubelet: { maxPods: pulumi.output(110) } },
    instanceGroups: { "nodes-us-east-1a": { maxSize: store.url.apply(() => 5) } },
  });
  const writePolicy: pulumi.Output<IamPolicyDocument | undefined> = store.writePolicy;
  return { storeUrl: store.url, configBase: cluster.configBase, s3Policy: writePolicy.apply((p) => p !== undefined) };
};
