// The local example as a Go program: a state store in a local folder holding one kops cluster,
// through the kstate provider plugin and a Go SDK generated from its schema (README, "Other
// Pulumi languages"). It runs inline through the Automation API, so it needs the Pulumi CLI and
// no Go language host:
//
//	go run . [up|preview|destroy]
//
// Environment: KSTATE_STORE_URL (default file://$PWD/.kstate/store), KSTATE_PLUGIN_DIR (the folder
// of pulumi-resource-kstate; default ../../bin), PULUMI_BACKEND_URL (default
// file://$PWD/.kstate/pulumi-backend), PULUMI_CONFIG_PASSPHRASE (default empty).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"example.com/pulumi-kstate/sdk/go/kstate"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func program(storeURL string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		store, err := kstate.NewStateStore(ctx, "local", &kstate.StateStoreArgs{Url: pulumi.String(storeURL)})
		if err != nil {
			return err
		}
		// Like `kops create cluster dev.k8s.example.com --zones … --node-size …`, merged into what is stored.
		cluster, err := kstate.NewClusterConfig(ctx, "dev", &kstate.ClusterConfigArgs{
			Store: store.Url,
			Name:  pulumi.String("dev.k8s.example.com"),
			Options: pulumi.Map{
				"cloud":             pulumi.String("aws"),
				"zones":             pulumi.ToStringArray([]string{"us-east-1a", "us-east-1b"}),
				"nodeCount":         pulumi.Int(2),
				"nodeSize":          pulumi.String(env("KSTATE_NODE_SIZE", "t3.large")),
				"kubernetesVersion": pulumi.String("v1.30.2"),
			},
			Spec: pulumi.Map{"kubelet": pulumi.Map{"maxPods": pulumi.Int(110)}},
		})
		if err != nil {
			return err
		}
		ctx.Export("storeUrl", store.Url)
		ctx.Export("configBase", cluster.ConfigBase)
		return nil
	}
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return fallback
}

func run(action string) (any, error) {
	ctx := context.Background()
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	plugins, err := filepath.Abs(env("KSTATE_PLUGIN_DIR", filepath.Join("..", "..", "bin")))
	if err != nil {
		return nil, err
	}
	backend := env("PULUMI_BACKEND_URL", "file://"+filepath.Join(cwd, ".kstate", "pulumi-backend"))
	if err := os.MkdirAll(filepath.Join(cwd, ".kstate", "pulumi-backend"), 0o700); err != nil {
		return nil, err
	}
	project := workspace.Project{
		Name:    tokens.PackageName("kstate-go"),
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Plugins: &workspace.Plugins{Providers: []workspace.PluginOptions{{Name: "kstate", Path: plugins}}},
	}
	stack, err := auto.UpsertStackInlineSource(ctx, "dev", "kstate-go", program(env("KSTATE_STORE_URL", "file://"+filepath.Join(cwd, ".kstate", "store"))),
		auto.Project(project),
		auto.EnvVars(map[string]string{"PULUMI_BACKEND_URL": backend, "PULUMI_CONFIG_PASSPHRASE": env("PULUMI_CONFIG_PASSPHRASE", ""), "PULUMI_SKIP_UPDATE_CHECK": "true"}))
	if err != nil {
		return nil, err
	}
	switch action {
	case "up":
		res, err := stack.Up(ctx, optup.ProgressStreams(os.Stderr))
		if err != nil {
			return nil, err
		}
		outputs := map[string]any{}
		for k, v := range res.Outputs {
			outputs[k] = v.Value
		}
		return map[string]any{"changes": res.Summary.ResourceChanges, "outputs": outputs}, nil
	case "preview":
		res, err := stack.Preview(ctx, optpreview.ProgressStreams(os.Stderr))
		if err != nil {
			return nil, err
		}
		return map[string]any{"changes": res.ChangeSummary}, nil
	case "destroy":
		res, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr))
		if err != nil {
			return nil, err
		}
		return map[string]any{"changes": res.Summary.ResourceChanges}, nil
	}
	return nil, fmt.Errorf("unknown action %q (up, preview, destroy)", action)
}

func main() {
	action := "up"
	if len(os.Args) > 1 {
		action = os.Args[1]
	}
	result, err := run(action)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The run's progress went to stderr; stdout holds only its result, as JSON.
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
