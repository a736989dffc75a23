/*
 * Protobuf field numbers of the pod template and everything inside it, from the `generated.proto`
 * of k8s.io/api core/v1. The notation is read by ./messages.ts:
 *   `jsonName=number[:type]` — type defaults to `string`;
 *   `int`, `bool`, `bytes`, `Time`, `IntOrString`, `Quantity`, `FieldsV1` — scalars and the
 *     well-known apimachinery messages that JSON writes as scalars;
 *   `map`, `map:bytes`, `map:Quantity` — a map from string to that value;
 *   `[]T` — repeated; `Name` — another message of these tables;
 *   `?` after the type — a pointer in Go: present on the wire means set, even when zero;
 *   `^` before the name — an embedded Go struct whose fields JSON writes inline.
 */
export const podMessages: Record<string, string> = {
  PodTemplateSpec: 'metadata=1:ObjectMeta spec=2:PodSpec',
  PodSpec:
    'volumes=1:[]Volume containers=2:[]Container restartPolicy=3 ' +
    'terminationGracePeriodSeconds=4:int? activeDeadlineSeconds=5:int? dnsPolicy=6 ' +
    'nodeSelector=7:map serviceAccountName=8 serviceAccount=9 nodeName=10 hostNetwork=11:bool ' +
    'hostPID=12:bool hostIPC=13:bool securityContext=14:PodSecurityContext? ' +
    'imagePullSecrets=15:[]LocalObjectReference hostname=16 subdomain=17 ' +
    'affinity=18:Affinity? schedulerName=19 initContainers=20:[]Container ' +
    'automountServiceAccountToken=21:bool? tolerations=22:[]Toleration ' +
    'hostAliases=23:[]HostAlias priorityClassName=24 priority=25:int? ' +
    'dnsConfig=26:PodDNSConfig? shareProcessNamespace=27:bool? ' +
    'readinessGates=28:[]PodReadinessGate runtimeClassName=29 enableServiceLinks=30:bool? ' +
    'preemptionPolicy=31 overhead=32:map:Quantity ' +
    'topologySpreadConstraints=33:[]TopologySpreadConstraint setHostnameAsFQDN=35:bool? ' +
    'os=36:PodOS? hostUsers=37:bool? resources=40:ResourceRequirements? hostnameOverride=41',
  Container:
    'name=1 image=2 command=3:[]string args=4:[]string workingDir=5 ports=6:[]ContainerPort ' +
    'env=7:[]EnvVar resources=8:ResourceRequirements volumeMounts=9:[]VolumeMount ' +
    'livenessProbe=10:Probe? readinessProbe=11:Probe? lifecycle=12:Lifecycle? ' +
    'terminationMessagePath=13 imagePullPolicy=14 securityContext=15:SecurityContext? ' +
    'stdin=16:bool stdinOnce=17:bool tty=18:bool envFrom=19:[]EnvFromSource ' +
    'terminationMessagePolicy=20 startupProbe=22:Probe? ' +
    'resizePolicy=23:[]ContainerResizePolicy restartPolicy=24',
  ContainerPort: 'name=1 hostPort=2:int containerPort=3:int protocol=4 hostIP=5',
  ContainerResizePolicy: 'resourceName=1 restartPolicy=2',
  EnvVar: 'name=1 value=2 valueFrom=3:EnvVarSource?',
  EnvVarSource:
    'fieldRef=1:ObjectFieldSelector? resourceFieldRef=2:ResourceFieldSelector? ' +
    'configMapKeyRef=3:ConfigMapKeySelector? secretKeyRef=4:SecretKeySelector?',
  EnvFromSource: 'prefix=1 configMapRef=2:ConfigMapEnvSource? secretRef=3:SecretEnvSource?',
  ConfigMapEnvSource: '^localObjectReference=1:LocalObjectReference optional=2:bool?',
  SecretEnvSource: '^localObjectReference=1:LocalObjectReference optional=2:bool?',
  ConfigMapKeySelector: '^localObjectReference=1:LocalObjectReference key=2 optional=3:bool?',
  SecretKeySelector: '^localObjectReference=1:LocalObjectReference key=2 optional=3:bool?',
  ObjectFieldSelector: 'apiVersion=1 fieldPath=2',
  ResourceFieldSelector: 'containerName=1 resource=2 divisor=3:Quantity',
  LocalObjectReference: 'name=1',
  ResourceRequirements: 'limits=1:map:Quantity requests=2:map:Quantity',
  VolumeMount:
    'name=1 readOnly=2:bool mountPath=3 subPath=4 mountPropagation=5? subPathExpr=6 ' +
    'recursiveReadOnly=7?',
  Probe:
    '^handler=1:ProbeHandler initialDelaySeconds=2:int timeoutSeconds=3:int ' +
    'periodSeconds=4:int successThreshold=5:int failureThreshold=6:int ' +
    'terminationGracePeriodSeconds=7:int?',
  ProbeHandler:
    'exec=1:ExecAction? httpGet=2:HTTPGetAction? tcpSocket=3:TCPSocketAction? grpc=4:GRPCAction?',
  ExecAction: 'command=1:[]string',
  HTTPGetAction: 'path=1 port=2:IntOrString host=3 scheme=4 httpHeaders=5:[]HTTPHeader',
  HTTPHeader: 'name=1 value=2',
  TCPSocketAction: 'port=1:IntOrString host=2',
  GRPCAction: 'port=1:int service=2?',
  Lifecycle: 'postStart=1:LifecycleHandler? preStop=2:LifecycleHandler? stopSignal=3?',
  LifecycleHandler:
    'exec=1:ExecAction? httpGet=2:HTTPGetAction? tcpSocket=3:TCPSocketAction? sleep=4:SleepAction?',
  SleepAction: 'seconds=1:int',
  SecurityContext:
    'capabilities=1:Capabilities? privileged=2:bool? seLinuxOptions=3:SELinuxOptions? ' +
    'runAsUser=4:int? runAsNonRoot=5:bool? readOnlyRootFilesystem=6:bool? ' +
    'allowPrivilegeEscalation=7:bool? runAsGroup=8:int? procMount=9? ' +
    'seccompProfile=11:SeccompProfile?',
  PodSecurityContext:
    'seLinuxOptions=1:SELinuxOptions? runAsUser=2:int? runAsNonRoot=3:bool? ' +
    'supplementalGroups=4:[]int fsGroup=5:int? runAsGroup=6:int? sysctls=7:[]Sysctl ' +
    'fsGroupChangePolicy=9? seccompProfile=10:SeccompProfile? supplementalGroupsPolicy=12? ' +
    'seLinuxChangePolicy=13?',
  Capabilities: 'add=1:[]string drop=2:[]string',
  SELinuxOptions: 'user=1 role=2 type=3 level=4',
  SeccompProfile: 'type=1 localhostProfile=2?',
  Sysctl: 'name=1 value=2',
  Toleration: 'key=1 operator=2 value=3 effect=4 tolerationSeconds=5:int?',
  HostAlias: 'ip=1 hostnames=2:[]string',
  PodDNSConfig: 'nameservers=1:[]string searches=2:[]string',
  PodReadinessGate: 'conditionType=1',
  PodOS: 'name=1',
  Affinity:
    'nodeAffinity=1:NodeAffinity? podAffinity=2:PodAffinity? podAntiAffinity=3:PodAffinity?',
  NodeAffinity:
    'requiredDuringSchedulingIgnoredDuringExecution=1:NodeSelector? ' +
    'preferredDuringSchedulingIgnoredDuringExecution=2:[]PreferredSchedulingTerm',
  NodeSelector: 'nodeSelectorTerms=1:[]NodeSelectorTerm',
  NodeSelectorTerm:
    'matchExpressions=1:[]NodeSelectorRequirement matchFields=2:[]NodeSelectorRequirement',
  NodeSelectorRequirement: 'key=1 operator=2 values=3:[]string',
  PreferredSchedulingTerm: 'weight=1:int preference=2:NodeSelectorTerm',
  PodAffinity:
    'requiredDuringSchedulingIgnoredDuringExecution=1:[]PodAffinityTerm ' +
    'preferredDuringSchedulingIgnoredDuringExecution=2:[]WeightedPodAffinityTerm',
  PodAffinityTerm:
    'labelSelector=1:LabelSelector? namespaces=2:[]string topologyKey=3 ' +
    'namespaceSelector=4:LabelSelector? matchLabelKeys=5:[]string mismatchLabelKeys=6:[]string',
  WeightedPodAffinityTerm: 'weight=1:int podAffinityTerm=2:PodAffinityTerm',
  TopologySpreadConstraint:
    'maxSkew=1:int topologyKey=2 whenUnsatisfiable=3 labelSelector=4:LabelSelector? ' +
    'minDomains=5:int? nodeAffinityPolicy=6? nodeTaintsPolicy=7? matchLabelKeys=8:[]string',
  Volume: 'name=1 ^volumeSource=2:VolumeSource',
  VolumeSource:
    'hostPath=1:HostPathVolumeSource? emptyDir=2:EmptyDirVolumeSource? ' +
    'secret=6:SecretVolumeSource? nfs=7:NFSVolumeSource? ' +
    'persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource? ' +
    'downwardAPI=16:DownwardAPIVolumeSource? configMap=19:ConfigMapVolumeSource? ' +
    'projected=26:ProjectedVolumeSource? csi=28:CSIVolumeSource? ' +
    'ephemeral=29:EphemeralVolumeSource? image=30:ImageVolumeSource?',
  HostPathVolumeSource: 'path=1 type=2?',
  EmptyDirVolumeSource: 'medium=1 sizeLimit=2:Quantity',
  SecretVolumeSource: 'secretName=1 items=2:[]KeyToPath defaultMode=3:int? optional=4:bool?',
  NFSVolumeSource: 'server=1 path=2 readOnly=3:bool',
  PersistentVolumeClaimVolumeSource: 'claimName=1 readOnly=2:bool',
  DownwardAPIVolumeSource: 'items=1:[]DownwardAPIVolumeFile defaultMode=2:int?',
  DownwardAPIVolumeFile:
    'path=1 fieldRef=2:ObjectFieldSelector? resourceFieldRef=3:ResourceFieldSelector? mode=4:int?',
  ConfigMapVolumeSource:
    '^localObjectReference=1:LocalObjectReference items=2:[]KeyToPath defaultMode=3:int? ' +
    'optional=4:bool?',
  KeyToPath: 'key=1 path=2 mode=3:int?',
  ProjectedVolumeSource: 'sources=1:[]VolumeProjection defaultMode=2:int?',
  VolumeProjection:
    'secret=1:SecretProjection? downwardAPI=2:DownwardAPIProjection? ' +
    'configMap=3:ConfigMapProjection? serviceAccountToken=4:ServiceAccountTokenProjection?',
  SecretProjection:
    '^localObjectReference=1:LocalObjectReference items=2:[]KeyToPath optional=4:bool?',
  ConfigMapProjection:
    '^localObjectReference=1:LocalObjectReference items=2:[]KeyToPath optional=4:bool?',
  DownwardAPIProjection: 'items=1:[]DownwardAPIVolumeFile',
  ServiceAccountTokenProjection: 'audience=1 expirationSeconds=2:int? path=3',
  CSIVolumeSource:
    'driver=1 readOnly=2:bool? fsType=3? volumeAttributes=4:map ' +
    'nodePublishSecretRef=5:LocalObjectReference?',
  EphemeralVolumeSource: 'volumeClaimTemplate=1:PersistentVolumeClaimTemplate?',
  PersistentVolumeClaimTemplate: 'metadata=1:ObjectMeta spec=2:PersistentVolumeClaimSpec',
  PersistentVolumeClaimSpec:
    'accessModes=1:[]string resources=2:VolumeResourceRequirements volumeName=3 ' +
    'selector=4:LabelSelector? storageClassName=5? volumeMode=6? ' +
    'volumeAttributesClassName=9?',
  VolumeResourceRequirements: 'limits=1:map:Quantity requests=2:map:Quantity',
  ImageVolumeSource: 'reference=1 pullPolicy=2',
};
