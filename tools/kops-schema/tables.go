package main

import (
	"reflect"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"k8s.io/kops/pkg/apis/kops"
	"k8s.io/kops/pkg/apis/kops/v1alpha2"
)

// The Go types have no notion of a closed set of values or of a required field; kops's
// `kops create -f` does, in its validation (pkg/apis/kops/validation: ValidateCluster(c, false),
// ValidateInstanceGroup(g, nil, false)), in the v1alpha2 conversion, and in RunCreate itself.
// These two tables hold the fields where it refuses a document, keyed by the v1alpha2 struct and
// the JSON name, each naming the kops function that refuses. Only fields checked wherever their
// struct occurs are here (KubeletConfigSpec's enums are checked in a Cluster's spec.kubelet but
// not in an InstanceGroup's, so they are not), and only values refused whatever the rest of the
// document says. tables_test.go checks every entry against the kops binary.
//
// Values come from kops's own lists where it exports them, so that a kops upgrade brings its new
// values; where kops spells the list inline in its validation, it is copied here. "" is listed
// where kops takes an explicit empty string as unset.

// tableEntry is one field: for an enum, the values kops accepts; why names the kops code.
type tableEntry struct {
	values []string
	why    string
}

func field[T any](name string) fieldKey {
	return fieldKey{owner: reflect.TypeFor[T](), name: name}
}

func strs[T ~string](values ...T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func enumTable() map[fieldKey]tableEntry {
	updatePolicy := []string{kops.UpdatePolicyAutomatic, kops.UpdatePolicyExternal}
	return map[fieldKey]tableEntry{
		field[v1alpha2.ClusterSpec]("cloudProvider"): {
			strs(kops.CloudProviderAWS, kops.CloudProviderAzure, kops.CloudProviderDO, kops.CloudProviderGCE,
				kops.CloudProviderHetzner, kops.CloudProviderLinode, kops.CloudProviderOpenstack, kops.CloudProviderScaleway),
			"v1alpha2.Convert_v1alpha2_ClusterSpec_To_kops_ClusterSpec (and \"\" by validation.validateCloudProvider)"},
		field[v1alpha2.ClusterSpec]("updatePolicy"): {updatePolicy, "validation.validateClusterSpec"},
		field[v1alpha2.ClusterSpec]("containerRuntime"): {
			[]string{"", "containerd"}, "validation.validateContainerRuntime (docker is refused there too)"},
		field[v1alpha2.ClusterSubnetSpec]("type"): {
			strs(kops.SubnetTypePublic, kops.SubnetTypePrivate, kops.SubnetTypeDualStack, kops.SubnetTypeUtility),
			"validation.validateSubnet"},
		field[v1alpha2.DNSSpec]("type"): {append([]string{""}, strs(kops.SupportedDnsTypes...)...), "validation.validateTopology"},
		field[v1alpha2.EtcdClusterSpec]("name"): {
			[]string{"cilium", "main", "events", "leases"}, "validation.validateEtcdClusterSpec"},
		field[v1alpha2.EtcdClusterSpec]("provider"): {
			strs("", kops.EtcdProviderTypeManager), "validation.validateEtcdClusterSpec"},
		field[v1alpha2.ExternalDNSConfig]("provider"): {
			strs("", kops.ExternalDNSProviderDNSController, kops.ExternalDNSProviderExternalDNS, kops.ExternalDNSProviderNone),
			"validation.validateExternalDNS"},
		field[v1alpha2.ClusterAutoscalerConfig]("expander"): {
			[]string{"", "least-waste", "random", "most-pods", "price", "priority"}, "validation.validateClusterAutoscaler"},
		// "" is decoded as udp (v1alpha2.SetDefaults_ClusterSpec).
		field[v1alpha2.FlannelNetworkingSpec]("backend"): {[]string{"", "udp", "vxlan"}, "validation.validateNetworkingFlannel"},
		field[v1alpha2.CiliumNetworkingSpec]("enablePolicy"): {
			[]string{"", "default", "always", "never"}, "validation.validateNetworkingCilium"},
		field[v1alpha2.CiliumNetworkingSpec]("tunnel"): {
			[]string{"", "vxlan", "geneve", "disabled"}, "validation.validateNetworkingCilium"},
		field[v1alpha2.CiliumNetworkingSpec]("monitorAggregation"): {
			[]string{"", "low", "medium", "maximum"}, "validation.validateNetworkingCilium"},
		field[v1alpha2.CiliumNetworkingSpec]("identityAllocationMode"): {
			[]string{"", "crd", "kvstore"}, "validation.validateNetworkingCilium"},
		field[v1alpha2.CiliumNetworkingSpec]("bpfLBAlgorithm"): {
			[]string{"", "random", "maglev"}, "validation.validateNetworkingCilium"},
		field[v1alpha2.CiliumNetworkingSpec]("encryptionType"): {
			strs("", kops.CiliumEncryptionTypeIPSec, kops.CiliumEncryptionTypeWireguard), "validation.validateNetworkingCilium"},
		field[v1alpha2.CiliumNetworkingSpec]("ipam"): {
			[]string{"", "hostscope", "kubernetes", "crd", "eni"}, "validation.validateNetworkingCilium"},
		field[v1alpha2.CalicoNetworkingSpec]("awsSrcDstCheck"): {
			[]string{"", "Enable", "Disable", "DoNothing"}, "validation.validateNetworkingCalico"},
		field[v1alpha2.CalicoNetworkingSpec]("bpfExternalServiceMode"): {
			[]string{"", "Tunnel", "DSR"}, "validation.validateNetworkingCalico"},
		field[v1alpha2.CalicoNetworkingSpec]("bpfLogLevel"): {
			[]string{"", "Off", "Info", "Debug"}, "validation.validateNetworkingCalico"},
		field[v1alpha2.CalicoNetworkingSpec]("chainInsertMode"): {
			[]string{"", "insert", "append"}, "validation.validateNetworkingCalico"},
		field[v1alpha2.CalicoNetworkingSpec]("encapsulationMode"): {
			[]string{"", "ipip", "vxlan", "none"}, "validation.validateNetworkingCalico"},
		field[v1alpha2.CalicoNetworkingSpec]("ipipMode"): {
			[]string{"", "Always", "CrossSubnet", "Never"}, "validation.validateCalicoEncapsulationMode"},
		field[v1alpha2.CalicoNetworkingSpec]("vxlanMode"): {
			[]string{"", "Always", "CrossSubnet", "Never"}, "validation.validateCalicoEncapsulationMode"},
		field[v1alpha2.CalicoNetworkingSpec]("iptablesBackend"): {
			[]string{"", "Auto", "Legacy", "NFT"}, "validation.validateNetworkingCalico"},

		// "Master" is v1alpha2's name for ControlPlane (Convert_v1alpha2_InstanceGroupSpec_To_kops_InstanceGroupSpec).
		field[v1alpha2.InstanceGroupSpec]("role"): {
			append([]string{"Master"}, strs(kops.AllInstanceGroupRoles...)...), "validation.ValidateInstanceGroup"},
		field[v1alpha2.InstanceGroupSpec]("tenancy"): {
			append([]string{""}, strs(ec2types.Tenancy("").Values()...)...), "validation.ValidateInstanceGroup"},
		field[v1alpha2.InstanceGroupSpec]("updatePolicy"): {updatePolicy, "validation.ValidateInstanceGroup"},
		field[v1alpha2.VolumeMountSpec]("filesystem"):     {kops.SupportedFilesystems, "validation.validateVolumeMountSpec"},
		field[v1alpha2.UserData]("type"): {[]string{
			"text/x-include-once-url", "text/x-include-url", "text/cloud-config-archive", "text/upstart-job",
			"text/cloud-config", "text/part-handler", "text/x-shellscript", "text/cloud-boothook",
		}, "validation.validateExtraUserData"},
	}
}

func requiredTable() map[fieldKey]tableEntry {
	return map[fieldKey]tableEntry{
		field[v1alpha2.Cluster]("kind"):                 {nil, "kopscodecs.Decode"},
		field[v1alpha2.Cluster]("metadata"):             {nil, "validation.newValidateCluster (metadata.name)"},
		field[v1alpha2.Cluster]("spec"):                 {nil, "cloudup.BuildCloud (unknown CloudProvider \"\")"},
		field[v1alpha2.ClusterSpec]("cloudProvider"):    {nil, "cloudup.BuildCloud (unknown CloudProvider \"\"), and validation.validateCloudProvider"},
		field[v1alpha2.ClusterSpec]("etcdClusters"):     {nil, "validation.validateClusterSpec"},
		field[v1alpha2.ClusterSubnetSpec]("name"):       {nil, "validation.validateSubnet"},
		field[v1alpha2.ClusterSubnetSpec]("type"):       {nil, "validation.validateSubnet"},
		field[v1alpha2.EtcdClusterSpec]("name"):         {nil, "validation.validateEtcdClusterSpec"},
		field[v1alpha2.EtcdClusterSpec]("etcdMembers"):  {nil, "validation.validateEtcdClusterSpec"},
		field[v1alpha2.EtcdMemberSpec]("name"):          {nil, "validation.validateEtcdMemberSpec"},
		field[v1alpha2.EtcdMemberSpec]("instanceGroup"): {nil, "validation.validateEtcdMemberSpec"},
		field[v1alpha2.FileAssetSpec]("name"):           {nil, "validation.validateFileAssetSpec"},
		field[v1alpha2.FileAssetSpec]("content"):        {nil, "validation.validateFileAssetSpec"},

		field[v1alpha2.InstanceGroup]("kind"):         {nil, "kopscodecs.Decode"},
		field[v1alpha2.InstanceGroup]("metadata"):     {nil, "cmd/kops RunCreate (the kops.k8s.io/cluster label), then validation.ValidateInstanceGroup (metadata.name)"},
		field[v1alpha2.InstanceGroup]("spec"):         {nil, "validation.ValidateInstanceGroup (spec.role)"},
		field[v1alpha2.InstanceGroupSpec]("role"):     {nil, "validation.ValidateInstanceGroup"},
		field[v1alpha2.VolumeSpec]("device"):          {nil, "validation.validateVolumeSpec"},
		field[v1alpha2.VolumeMountSpec]("device"):     {nil, "validation.validateVolumeMountSpec"},
		field[v1alpha2.VolumeMountSpec]("filesystem"): {nil, "validation.validateVolumeMountSpec"},
		field[v1alpha2.VolumeMountSpec]("path"):       {nil, "validation.validateVolumeMountSpec"},
		field[v1alpha2.UserData]("name"):              {nil, "validation.validateExtraUserData"},
		field[v1alpha2.UserData]("content"):           {nil, "validation.validateExtraUserData"},

		field[v1alpha2.SSHCredential]("kind"):          {nil, "kopscodecs.Decode"},
		field[v1alpha2.SSHCredential]("spec"):          {nil, "cmd/kops RunCreate (spec.publicKey)"},
		field[v1alpha2.SSHCredentialSpec]("publicKey"): {nil, "cmd/kops RunCreate"},
	}
}
