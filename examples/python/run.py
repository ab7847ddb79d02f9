"""The local example as a Python program: a state store in a local folder holding one kops cluster,
through the kstate provider plugin and a Python SDK generated from its schema (README, "Other
Pulumi languages"). It runs inline through the Automation API, so it needs the Pulumi CLI and no
Python language host:

    PYTHONPATH=sdk python run.py [up|preview|destroy]

Environment: KSTATE_STORE_URL (default file://$PWD/.kstate/store), PULUMI_BACKEND_URL (default
file://$PWD/.kstate/pulumi-backend), PULUMI_CONFIG_PASSPHRASE (default empty). The plugin's folder
is named in Pulumi.yaml beside this file. Progress goes to stderr; stdout holds the result as JSON.
"""
import json
import os
import sys

import pulumi
import pulumi_kstate as kstate
from pulumi import automation as auto

HERE = os.path.dirname(os.path.abspath(__file__))


def program() -> None:
    store_url = os.environ.get("KSTATE_STORE_URL", "file://" + os.path.join(os.getcwd(), ".kstate", "store"))
    store = kstate.StateStore("local", url=store_url)
    # Like `kops create cluster dev.k8s.example.com --zones … --node-size …`, merged into what is stored.
    cluster = kstate.ClusterConfig(
        "dev",
        store=store.url,
        name="dev.k8s.example.com",
        options={
            "cloud": "aws",
            "zones": ["us-east-1a", "us-east-1b"],
            "nodeCount": 2,
            "nodeSize": os.environ.get("KSTATE_NODE_SIZE", "t3.large"),
            "kubernetesVersion": "v1.30.2",
        },
        spec={"kubelet": {"maxPods": 110}},
    )
    pulumi.export("storeUrl", store.url)
    pulumi.export("configBase", cluster.config_base)


def main(action: str) -> dict:
    backend = os.path.join(os.getcwd(), ".kstate", "pulumi-backend")
    os.makedirs(backend, mode=0o700, exist_ok=True)
    env = {
        "PULUMI_BACKEND_URL": os.environ.get("PULUMI_BACKEND_URL", "file://" + backend),
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", ""),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    stack = auto.create_or_select_stack(
        stack_name="dev", project_name="kstate-python", program=program,
        opts=auto.LocalWorkspaceOptions(work_dir=HERE, env_vars=env),
    )
    progress = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if action == "up":
        res = stack.up(on_output=progress)
        return {"changes": res.summary.resource_changes, "outputs": {k: v.value for k, v in res.outputs.items()}}
    if action == "preview":
        return {"changes": stack.preview(on_output=progress).change_summary}
    if action == "destroy":
        return {"changes": stack.destroy(on_output=progress).summary.resource_changes}
    raise SystemExit(f"unknown action {action!r} (up, preview, destroy)")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "up")))
