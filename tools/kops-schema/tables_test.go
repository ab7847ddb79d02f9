package main

// Every entry of the enum and required tables, tried on the real kops binary with `kops create -f`
// into a file:// store, on an AWS cluster (against the project's EC2 catalogue stand-in) and a
// Hetzner one: a value outside an enum, and a document without a required field, must be refused,
// naming the field; each value of an enum must be accepted on at least one of the two (unless the
// case says which other settings it needs).
//
// Needs the kops binary ($KOPS, else `scripts/tools.sh path kops`), node and the project built
// (`npm run build`, for the stand-in). Run with `scripts/schema.sh verify`.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/kops/pkg/apis/kops/v1alpha2"
	"sigs.k8s.io/yaml"
)

// The documents of a test manifest (testdata/*.yaml), in order.
const (
	clusterDoc = iota
	instanceGroupDoc
	sshCredentialDoc
)

type tableCase struct {
	doc int
	// at is the field, as a dotted path from the document's root; numbers index lists.
	at string
	// prepare sets these paths first (whole values), so the struct holding the field exists.
	prepare map[string]any
	// refusal is what kops's message says when it refuses; emptyRefusal, for "", if it differs.
	refusal, emptyRefusal string
	// elsewhere are enum values kops accepts only with settings neither test cluster has.
	elsewhere []string
}

var enumCases = map[fieldKey]tableCase{
	field[v1alpha2.ClusterSpec]("cloudProvider"): {doc: clusterDoc, at: "spec.cloudProvider", refusal: `spec.cloudProvider: Unsupported value: "not-a-kops-value"`, emptyRefusal: `unknown CloudProvider ""`,
		// Each needs its own credentials and settings; the conversion's switch lists them.
		elsewhere: []string{"azure", "digitalocean", "gce", "linode", "openstack", "scaleway"}},
	field[v1alpha2.ClusterSpec]("updatePolicy"):     {doc: clusterDoc, at: "spec.updatePolicy", refusal: "spec.updatePolicy: Unsupported value"},
	field[v1alpha2.ClusterSpec]("containerRuntime"): {doc: clusterDoc, at: "spec.containerRuntime", refusal: "spec.containerRuntime: Unsupported value"},
	field[v1alpha2.ClusterSubnetSpec]("type"):       {doc: clusterDoc, at: "spec.subnets.0.type", refusal: "spec.networking.subnets[0].type: Unsupported value", elsewhere: []string{"DualStack"}},
	field[v1alpha2.DNSSpec]("type"):                 {doc: clusterDoc, at: "spec.topology.dns.type", refusal: "spec.networking.topology.dns.type: Unsupported value"},
	field[v1alpha2.EtcdClusterSpec]("name"): {doc: clusterDoc, at: "spec.etcdClusters.1.name", refusal: "spec.etcdClusters[1].name: Unsupported value",
		elsewhere: []string{"main"}}, // the manifest's first etcd cluster; two of a name share a backup store
	field[v1alpha2.EtcdClusterSpec]("provider"):   {doc: clusterDoc, at: "spec.etcdClusters.0.provider", refusal: "spec.etcdClusters[0].provider: Unsupported value"},
	field[v1alpha2.ExternalDNSConfig]("provider"): {doc: clusterDoc, at: "spec.externalDns.provider", refusal: "spec.externalDNS.provider: Unsupported value"},
	field[v1alpha2.ClusterAutoscalerConfig]("expander"): {doc: clusterDoc, at: "spec.clusterAutoscaler.expander", refusal: "spec.clusterAutoscaler.expander: Unsupported value",
		elsewhere: []string{"price"}}, // GCE only
	field[v1alpha2.FlannelNetworkingSpec]("backend"): {doc: clusterDoc, at: "spec.networking.flannel.backend", prepare: map[string]any{"spec.networking": map[string]any{"flannel": map[string]any{"backend": "vxlan"}}},
		refusal: "spec.networking.flannel.backend: Unsupported value"},
	field[v1alpha2.CiliumNetworkingSpec]("enablePolicy"):       {doc: clusterDoc, at: "spec.networking.cilium.enablePolicy", refusal: "spec.networking.cilium.enablePolicy: Unsupported value"},
	field[v1alpha2.CiliumNetworkingSpec]("tunnel"):             {doc: clusterDoc, at: "spec.networking.cilium.tunnel", refusal: "spec.networking.cilium.tunnel: Unsupported value"},
	field[v1alpha2.CiliumNetworkingSpec]("monitorAggregation"): {doc: clusterDoc, at: "spec.networking.cilium.monitorAggregation", refusal: "spec.networking.cilium.monitorAggregation: Unsupported value"},
	field[v1alpha2.CiliumNetworkingSpec]("identityAllocationMode"): {doc: clusterDoc, at: "spec.networking.cilium.identityAllocationMode", refusal: "spec.networking.cilium.identityAllocationMode: Unsupported value",
		elsewhere: []string{"kvstore"}}, // needs etcdManaged and a cilium etcd cluster
	field[v1alpha2.CiliumNetworkingSpec]("bpfLBAlgorithm"): {doc: clusterDoc, at: "spec.networking.cilium.bpfLBAlgorithm", refusal: "spec.networking.cilium.bpfLBAlgorithm: Unsupported value"},
	field[v1alpha2.CiliumNetworkingSpec]("encryptionType"): {doc: clusterDoc, at: "spec.networking.cilium.encryptionType", prepare: map[string]any{"spec.networking.cilium": map[string]any{"enableEncryption": true}},
		refusal: "spec.networking.cilium.encryptionType: Unsupported value"},
	field[v1alpha2.CiliumNetworkingSpec]("ipam"):                   {doc: clusterDoc, at: "spec.networking.cilium.ipam", refusal: "spec.networking.cilium.ipam: Unsupported value"},
	field[v1alpha2.CalicoNetworkingSpec]("awsSrcDstCheck"):         {doc: clusterDoc, at: "spec.networking.calico.awsSrcDstCheck", prepare: calico, refusal: "spec.networking.calico.awsSrcDstCheck: Unsupported value"},
	field[v1alpha2.CalicoNetworkingSpec]("bpfExternalServiceMode"): {doc: clusterDoc, at: "spec.networking.calico.bpfExternalServiceMode", prepare: calico, refusal: "spec.networking.calico.bpfExternalServiceMode: Unsupported value"},
	field[v1alpha2.CalicoNetworkingSpec]("bpfLogLevel"):            {doc: clusterDoc, at: "spec.networking.calico.bpfLogLevel", prepare: calico, refusal: "spec.networking.calico.bpfLogLevel: Unsupported value"},
	field[v1alpha2.CalicoNetworkingSpec]("chainInsertMode"):        {doc: clusterDoc, at: "spec.networking.calico.chainInsertMode", prepare: calico, refusal: "spec.networking.calico.chainInsertMode: Unsupported value"},
	field[v1alpha2.CalicoNetworkingSpec]("encapsulationMode"): {doc: clusterDoc, at: "spec.networking.calico.encapsulationMode", prepare: calico, refusal: "spec.networking.calico.encapsulationMode: Unsupported value",
		elsewhere: []string{"none"}}, // IPv6 clusters only
	field[v1alpha2.CalicoNetworkingSpec]("ipipMode"):        {doc: clusterDoc, at: "spec.networking.calico.ipipMode", prepare: calico, refusal: "spec.networking.calico.ipipMode: Unsupported value"},
	field[v1alpha2.CalicoNetworkingSpec]("vxlanMode"):       {doc: clusterDoc, at: "spec.networking.calico.vxlanMode", prepare: calico, refusal: "spec.networking.calico.vxlanMode: Unsupported value"},
	field[v1alpha2.CalicoNetworkingSpec]("iptablesBackend"): {doc: clusterDoc, at: "spec.networking.calico.iptablesBackend", prepare: calico, refusal: "spec.networking.calico.iptablesBackend: Unsupported value"},

	field[v1alpha2.InstanceGroupSpec]("role"):         {doc: instanceGroupDoc, at: "spec.role", refusal: "spec.role: Unsupported value", emptyRefusal: "spec.role: Required value"},
	field[v1alpha2.InstanceGroupSpec]("tenancy"):      {doc: instanceGroupDoc, at: "spec.tenancy", refusal: "spec.tenancy: Unsupported value"},
	field[v1alpha2.InstanceGroupSpec]("updatePolicy"): {doc: instanceGroupDoc, at: "spec.updatePolicy", refusal: "spec.updatePolicy: Unsupported value"},
	field[v1alpha2.VolumeMountSpec]("filesystem"):     {doc: instanceGroupDoc, at: "spec.volumeMounts.0.filesystem", prepare: volumeMounts, refusal: "spec.volumeMounts[0].filesystem: Unsupported value"},
	field[v1alpha2.UserData]("type"):                  {doc: instanceGroupDoc, at: "spec.additionalUserData.0.type", prepare: userData, refusal: "type: Unsupported value"},
}

var requiredCases = map[fieldKey]tableCase{
	field[v1alpha2.Cluster]("kind"):                 {doc: clusterDoc, at: "kind", refusal: "Object 'Kind' is missing"},
	field[v1alpha2.Cluster]("metadata"):             {doc: clusterDoc, at: "metadata", refusal: "objectMeta.name: Required value"},
	field[v1alpha2.Cluster]("spec"):                 {doc: clusterDoc, at: "spec", refusal: `unknown CloudProvider ""`},
	field[v1alpha2.ClusterSpec]("cloudProvider"):    {doc: clusterDoc, at: "spec.cloudProvider", refusal: `unknown CloudProvider ""`},
	field[v1alpha2.ClusterSpec]("etcdClusters"):     {doc: clusterDoc, at: "spec.etcdClusters", refusal: "spec.etcdClusters: Required value"},
	field[v1alpha2.ClusterSubnetSpec]("name"):       {doc: clusterDoc, at: "spec.subnets.0.name", refusal: "spec.networking.subnets[0].name: Required value"},
	field[v1alpha2.ClusterSubnetSpec]("type"):       {doc: clusterDoc, at: "spec.subnets.0.type", refusal: "spec.networking.subnets[0].type: Unsupported value: \"\""},
	field[v1alpha2.EtcdClusterSpec]("name"):         {doc: clusterDoc, at: "spec.etcdClusters.1.name", refusal: "spec.etcdClusters[1].name: Unsupported value: \"\""},
	field[v1alpha2.EtcdClusterSpec]("etcdMembers"):  {doc: clusterDoc, at: "spec.etcdClusters.1.etcdMembers", refusal: "spec.etcdClusters[1].etcdMembers: Required value"},
	field[v1alpha2.EtcdMemberSpec]("name"):          {doc: clusterDoc, at: "spec.etcdClusters.1.etcdMembers.0.name", refusal: "spec.etcdClusters[1].etcdMembers[0].name: Required value"},
	field[v1alpha2.EtcdMemberSpec]("instanceGroup"): {doc: clusterDoc, at: "spec.etcdClusters.1.etcdMembers.0.instanceGroup", refusal: "spec.etcdClusters[1].etcdMembers[0].instanceGroup: Required value"},
	field[v1alpha2.FileAssetSpec]("name"):           {doc: clusterDoc, at: "spec.fileAssets.0.name", prepare: fileAssets, refusal: "spec.fileAssets[0].name: Required value"},
	field[v1alpha2.FileAssetSpec]("content"):        {doc: clusterDoc, at: "spec.fileAssets.0.content", prepare: fileAssets, refusal: "spec.fileAssets[0].content: Required value"},

	field[v1alpha2.InstanceGroup]("kind"):         {doc: instanceGroupDoc, at: "kind", refusal: "Object 'Kind' is missing"},
	field[v1alpha2.InstanceGroup]("metadata"):     {doc: instanceGroupDoc, at: "metadata", refusal: "must specify \"kops.k8s.io/cluster\" label"},
	field[v1alpha2.InstanceGroup]("spec"):         {doc: instanceGroupDoc, at: "spec", refusal: "spec.role: Required value"},
	field[v1alpha2.InstanceGroupSpec]("role"):     {doc: instanceGroupDoc, at: "spec.role", refusal: "spec.role: Required value"},
	field[v1alpha2.VolumeSpec]("device"):          {doc: instanceGroupDoc, at: "spec.volumes.0.device", prepare: volumes, refusal: "spec.volumes[0].device: Required value"},
	field[v1alpha2.VolumeMountSpec]("device"):     {doc: instanceGroupDoc, at: "spec.volumeMounts.0.device", prepare: volumeMounts, refusal: "spec.volumeMounts[0].device: Required value"},
	field[v1alpha2.VolumeMountSpec]("filesystem"): {doc: instanceGroupDoc, at: "spec.volumeMounts.0.filesystem", prepare: volumeMounts, refusal: "spec.volumeMounts[0].filesystem: Required value"},
	field[v1alpha2.VolumeMountSpec]("path"):       {doc: instanceGroupDoc, at: "spec.volumeMounts.0.path", prepare: volumeMounts, refusal: "spec.volumeMounts[0].path: Required value"},
	field[v1alpha2.UserData]("name"):              {doc: instanceGroupDoc, at: "spec.additionalUserData.0.name", prepare: userData, refusal: "name: Required value"},
	field[v1alpha2.UserData]("content"):           {doc: instanceGroupDoc, at: "spec.additionalUserData.0.content", prepare: userData, refusal: "content: Required value"},

	field[v1alpha2.SSHCredential]("kind"):          {doc: sshCredentialDoc, at: "kind", refusal: "Object 'Kind' is missing"},
	field[v1alpha2.SSHCredential]("spec"):          {doc: sshCredentialDoc, at: "spec", refusal: "spec.PublicKey is required"},
	field[v1alpha2.SSHCredentialSpec]("publicKey"): {doc: sshCredentialDoc, at: "spec.publicKey", refusal: "spec.PublicKey is required"},
}

var (
	calico       = map[string]any{"spec.networking": map[string]any{"calico": map[string]any{}}}
	fileAssets   = map[string]any{"spec.fileAssets": []any{map[string]any{"name": "f", "path": "/etc/f", "content": "x"}}}
	volumes      = map[string]any{"spec.volumes": []any{map[string]any{"device": "/dev/xvdd", "size": 20}}}
	volumeMounts = map[string]any{"spec.volumeMounts": []any{map[string]any{"device": "/dev/xvdd", "filesystem": "ext4", "path": "/data"}}}
	userData     = map[string]any{"spec.additionalUserData": []any{map[string]any{"name": "a.sh", "type": "text/x-shellscript", "content": "#!/bin/sh"}}}
)

const notAValue = "not-a-kops-value"

func TestEnumTable(t *testing.T) {
	env := newKopsEnv(t)
	for key, entry := range enumTable() {
		c, ok := enumCases[key]
		if !ok {
			t.Errorf("enum %s.%s has no case here: every table entry is tried on kops", key.owner.Name(), key.name)
			continue
		}
		t.Run(key.owner.Name()+"."+key.name, func(t *testing.T) {
			accepted := map[string][]string{} // value -> the clouds whose cluster kops took it on
			refused := []string{notAValue}
			if !slices.Contains(entry.values, "") {
				refused = append(refused, "")
			}
			for _, cl := range env.clouds {
				env.mustAccept(t, cl, c)
				if v, ok := lookup(env.prepared(t, cl, c)[c.doc], c.at); ok {
					accepted[fmt.Sprint(v)] = append(accepted[fmt.Sprint(v)], cl.name) // the manifest as it is
				}
				for _, bad := range refused {
					want := c.refusal
					if bad == "" && c.emptyRefusal != "" {
						want = c.emptyRefusal
					}
					out, ok := env.create(t, cl, c, bad)
					if ok || !strings.Contains(out, want) {
						t.Errorf("%s: %s: %q: want refused with %q, got accepted=%v:\n%s", cl.name, c.at, bad, want, ok, out)
					}
				}
				for _, v := range entry.values {
					if slices.Contains(c.elsewhere, v) {
						continue
					}
					if _, ok := env.create(t, cl, c, v); ok {
						accepted[v] = append(accepted[v], cl.name)
					}
				}
			}
			for _, v := range entry.values {
				if len(accepted[v]) > 0 {
					t.Logf("%s = %q: accepted on %s", c.at, v, strings.Join(slices.Compact(accepted[v]), ", "))
				} else if slices.Contains(c.elsewhere, v) {
					t.Logf("%s = %q: not tried (see the case)", c.at, v)
				} else {
					out, _ := env.create(t, env.clouds[0], c, v)
					t.Errorf("%s = %q is listed, but kops refused it on every test cluster:\n%s", c.at, v, out)
				}
			}
		})
	}
}

func TestRequiredTable(t *testing.T) {
	env := newKopsEnv(t)
	for key := range requiredTable() {
		c, ok := requiredCases[key]
		if !ok {
			t.Errorf("required %s.%s has no case here: every table entry is tried on kops", key.owner.Name(), key.name)
			continue
		}
		t.Run(key.owner.Name()+"."+key.name, func(t *testing.T) {
			for _, cl := range env.clouds {
				env.mustAccept(t, cl, c)
				out, ok := env.create(t, cl, c, absent{})
				if ok || !strings.Contains(out, c.refusal) {
					t.Errorf("%s: without %s: want refused with %q, got accepted=%v:\n%s", cl.name, c.at, c.refusal, ok, out)
				}
			}
		})
	}
}

// absent, as the value to set, removes the field.
type absent struct{}

type testCloud struct {
	name     string
	manifest []map[string]any
	extraEnv []string
}

type kopsEnv struct {
	kops   string
	clouds []testCloud
}

func newKopsEnv(t *testing.T) *kopsEnv {
	t.Helper()
	kops := os.Getenv("KOPS")
	if kops == "" {
		out, err := exec.Command("../../scripts/tools.sh", "path", "kops").Output()
		if err != nil {
			t.Fatalf("scripts/tools.sh path kops: %v", err)
		}
		kops = strings.TrimSpace(string(out))
	}
	if _, err := os.Stat(kops); err != nil {
		t.Fatalf("the kops binary (build it with scripts/tools.sh kops): %v", err)
	}
	return &kopsEnv{kops: kops, clouds: []testCloud{
		{name: "aws", manifest: readManifest(t, "testdata/aws.yaml"), extraEnv: ec2Catalogue(t)},
		{name: "hetzner", manifest: readManifest(t, "testdata/hetzner.yaml"), extraEnv: []string{"HCLOUD_TOKEN=unused"}},
	}}
}

// ec2Catalogue starts the project's loopback stand-in for EC2's catalogue calls (kops asks for
// regions and zones when it creates an AWS cluster) and returns kops's environment for it.
func ec2Catalogue(t *testing.T) []string {
	t.Helper()
	support, err := filepath.Abs("../../dist/test/support/kops.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(support); err != nil {
		t.Fatalf("the EC2 catalogue stand-in is built by `npm run build`: %v", err)
	}
	cmd := exec.Command("node", "-e", fmt.Sprintf("require(%q).startEc2Catalogue().then(c => console.log(c.endpoint))", support))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the EC2 catalogue stand-in: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	endpoint, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the EC2 catalogue stand-in printed no endpoint: %v", err)
	}
	return []string{"AWS_ENDPOINT_URL_EC2=" + strings.TrimSpace(endpoint), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_REGION=us-east-1"}
}

func readManifest(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, section := range strings.Split(string(data), "\n---\n") {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(section), &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, doc)
	}
	return docs
}

// mustAccept fails the test unless kops accepts the manifest with the case's preparation: a
// refusal then is the field's doing.
func (e *kopsEnv) mustAccept(t *testing.T, cl testCloud, c tableCase) {
	t.Helper()
	if out, ok := e.create(t, cl, c, nil); !ok {
		t.Fatalf("%s: kops refuses the prepared manifest itself:\n%s", cl.name, out)
	}
}

// prepared is the cloud's manifest with the case's preparation.
func (e *kopsEnv) prepared(t *testing.T, cl testCloud, c tableCase) []map[string]any {
	t.Helper()
	docs := cloneDocs(t, cl.manifest)
	prepare := make([]string, 0, len(c.prepare))
	for p := range c.prepare {
		prepare = append(prepare, p)
	}
	slices.Sort(prepare)
	for _, p := range prepare {
		setPath(t, docs[c.doc], p, cloneValue(t, c.prepare[p]))
	}
	return docs
}

// create runs `kops create -f` on the cloud's manifest with the case's preparation and value
// (nil: the field as the manifest has it; absent{}: removed) into a new store.
func (e *kopsEnv) create(t *testing.T, cl testCloud, c tableCase, value any) (string, bool) {
	t.Helper()
	docs := e.prepared(t, cl, c)
	if value != nil {
		setPath(t, docs[c.doc], c.at, value)
	}
	var sections []string
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		sections = append(sections, string(b))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "manifest.yaml")
	if err := os.WriteFile(file, []byte(strings.Join(sections, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.kops, "create", "-f", file, "--state", "file://"+filepath.Join(dir, "store"))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "KOPS_RUN_TOO_NEW_VERSION=1"}, cl.extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// lookup is the value at a dotted path, if there is one.
func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n >= len(node) {
				return nil, false
			}
			cur = node[n]
		default:
			return nil, false
		}
	}
	return cur, true
}

func cloneDocs(t *testing.T, docs []map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, d := range docs {
		out = append(out, cloneValue(t, d).(map[string]any))
	}
	return out
}

// cloneValue is a deep copy of a document or part of one.
func cloneValue(t *testing.T, v any) any {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var c any
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// setPath sets (or, for absent{}, removes) the field at a dotted path, making maps on the way.
func setPath(t *testing.T, doc map[string]any, path string, value any) {
	t.Helper()
	parts := strings.Split(path, ".")
	var cur any = doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				if _, remove := value.(absent); remove {
					delete(node, p)
				} else {
					node[p] = value
				}
				return
			}
			if _, ok := node[p]; !ok {
				node[p] = map[string]any{}
			}
			cur = node[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n >= len(node) {
				t.Fatalf("%s: no list item %s", path, p)
			}
			if last {
				if _, remove := value.(absent); remove {
					t.Fatalf("%s: cannot remove a list item", path)
				}
				node[n] = value
				return
			}
			cur = node[n]
		default:
			t.Fatalf("%s: %s is not a map or a list", path, strings.Join(parts[:i], "."))
		}
	}
}
