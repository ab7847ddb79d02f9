// The embedded default: a state store in a local folder holding one kops cluster, managed by
// Pulumi's local backend. `kops get cluster --state file://…` reads what this writes.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as kstate from "kstate";

export = async () => {
  const config = new pulumi.Config();
  // A folder under the directory Pulumi runs in, unless the stack says otherwise.
  const storeUrl = config.get("storeUrl") ?? `file://${path.resolve(".kstate", "store")}`;

  const store = new kstate.StateStore("local", { url: storeUrl, forceDestroy: config.getBoolean("forceDestroy") ?? false });

  // Like `kops create cluster dev.k8s.example.com --zones … --node-size …`, merged into what is
  // stored: change an option and run again, and only the fields it sets change.
  const cluster = new kstate.ClusterConfig("dev", {
    store: store.url,
    name: config.get("clusterName") ?? "dev.k8s.example.com",
    options: {
      cloud: "aws",
      zones: ["us-east-1a", "us-east-1b"],
      nodeCount: 2,
      nodeSize: config.get("nodeSize") ?? "t3.large",
      kubernetesVersion: "v1.30.2",
    },
    spec: { kubelet: { maxPods: 110 } },
  });

  return { storeUrl: store.url, versioning: store.versioning, encryption: store.encryption, configBase: cluster.configBase };
};
