/**
 * The `kops create cluster` flags as typed options (checked in options.ts, written by expand.ts
 * and option-fields.ts), and how a problem with one is told.
 */
export interface ClusterOptions {
  zones?: string[];
  controlPlaneZones?: string[];
  controlPlaneCount?: number;
  nodeCount?: number;
  /** One machine type, or several (`a,b` or a list): the first is the group's, all make a mixed-instances policy. */
  nodeSize?: string | string[];
  controlPlaneSize?: string | string[];
  kubernetesVersion?: string;
  cloud?: string;
  networking?: string;
  networkCidr?: string;
  topology?: "public" | "private";
  /** `--dns`: the cluster's DNS, public or private (a gossip-style name ending .k8s.local needs none). */
  dns?: "public" | "private" | "none";
  dnsZone?: string;
  sshAccess?: string[];
  adminAccess?: string[];
  image?: string;
  nodeImage?: string;
  controlPlaneImage?: string;
  channel?: string;
  /** Root volume sizes in GB. */
  nodeVolumeSize?: number;
  controlPlaneVolumeSize?: number;
  /** GCE project. */
  project?: string;
  /** Azure subscription (kops: --azure-subscription-id, by default AZURE_SUBSCRIPTION_ID); written on Azure only. */
  azureSubscriptionId?: string;
  /** OpenStack (kops's --os-* flags): the external network and subnet of the router, its DNS servers, the API load balancer's floating subnet and Octavia, and whether volumes ignore zones. */
  openstackExternalNetwork?: string;
  openstackExternalSubnet?: string;
  openstackDnsServers?: string;
  openstackLbFloatingSubnet?: string;
  openstackOctavia?: boolean;
  openstackOctaviaProvider?: string;
  openstackKubeletIgnoreAz?: boolean;
  /** An existing network (AWS VPC id) and subnets in it (`--subnets`, `--utility-subnets`), one per zone. */
  networkId?: string;
  subnetIds?: string[];
  utilitySubnetIds?: string[];
  /** A bastion group (private topology). */
  bastion?: boolean;
  apiLoadBalancerType?: "public" | "internal";
  /** The etcd clusters (default main, events). */
  etcdClusters?: string[];
  // Flags that set fields, and nothing else: what each writes is option-fields.ts.
  /** Feature gates of every Kubernetes component: `Name` (or `+Name`) enables, `-Name` disables. */
  kubernetesFeatureGates?: string[];
  /** Accepted for kops's sake: containerd is the only runtime, and the flag writes nothing. */
  containerRuntime?: "containerd";
  bastionImage?: string;
  /** Root volume types (e.g. gp3). */
  nodeVolumeType?: string;
  controlPlaneVolumeType?: string;
  /** A public IP on every group's instances, or none. */
  associatePublicIp?: boolean;
  /** Pre-created security groups added to the groups' instances. */
  nodeSecurityGroups?: string[];
  controlPlaneSecurityGroups?: string[];
  /** EC2 tenancy: default, dedicated or host. */
  nodeTenancy?: string;
  controlPlaneTenancy?: string;
  /** cloudgroups (kops's default); karpenter needs --discovery-store, which kstate does not take. */
  instanceManager?: "cloudgroups" | "karpenter";
  /** AWS: kops does not tag the subnets. */
  disableSubnetTags?: boolean;
  /** The etcd members' volumes encrypted (AWS's default), or not. */
  encryptEtcdStorage?: boolean;
  /** The etcd members' volume type (e.g. gp3). */
  etcdStorageType?: string;
  /** RBAC or AlwaysAllow, in any case, as kops reads it. */
  authorization?: string;
  /** Tags of the cloud resources: kops's `k=v,k2=v2` (a value may be quoted: `k="a=b"`), or a map. */
  cloudLabels?: string | Record<string, string>;
  /** AWS: classic or network. */
  apiLoadBalancerClass?: "classic" | "network";
  /** AWS: the ACM certificate of the API load balancer. */
  apiSslCertificate?: string;
  /** The API's public DNS name (spec.masterPublicName). */
  apiPublicName?: string;
  /** GCE: the service account the VMs run as. */
  gceServiceAccount?: string;
}

export interface OptionProblem {
  option: string;
  message: string;
}
