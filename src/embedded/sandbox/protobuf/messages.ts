import { podMessages } from './pod-messages.ts';

/*
 * Protobuf field numbers of the kinds `kubectl create <generator>` sends, from the
 * `generated.proto` files of k8s.io/api and k8s.io/apimachinery; the notation is described in
 * ./pod-messages.ts. Status messages are left out on purpose: a create carries an empty status,
 * which the decoder skips as a message of zeros.
 */
const objectMessages: Record<string, string> = {
  ObjectMeta:
    'name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 generation=7:int ' +
    'creationTimestamp=8:Time deletionTimestamp=9:Time? deletionGracePeriodSeconds=10:int? ' +
    'labels=11:map annotations=12:map ownerReferences=13:[]OwnerReference ' +
    'finalizers=14:[]string managedFields=17:[]ManagedFieldsEntry',
  OwnerReference: 'kind=1 name=3 uid=4 apiVersion=5 controller=6:bool? blockOwnerDeletion=7:bool?',
  ManagedFieldsEntry:
    'manager=1 operation=2 apiVersion=3 time=4:Time? fieldsType=6 fieldsV1=7:FieldsV1 subresource=8',
  LabelSelector: 'matchLabels=1:map matchExpressions=2:[]LabelSelectorRequirement',
  LabelSelectorRequirement: 'key=1 operator=2 values=3:[]string',
  DeleteOptions:
    'gracePeriodSeconds=1:int? preconditions=2:Preconditions? orphanDependents=3:bool? ' +
    'propagationPolicy=4? dryRun=5:[]string',
  Preconditions: 'uid=1? resourceVersion=2?',

  Namespace: 'metadata=1:ObjectMeta spec=2:NamespaceSpec',
  NamespaceSpec: 'finalizers=1:[]string',
  ConfigMap: 'metadata=1:ObjectMeta data=2:map binaryData=3:map:bytes immutable=4:bool?',
  Secret: 'metadata=1:ObjectMeta data=2:map:bytes type=3 stringData=4:map immutable=5:bool?',
  ServiceAccount:
    'metadata=1:ObjectMeta secrets=2:[]ObjectReference ' +
    'imagePullSecrets=3:[]LocalObjectReference automountServiceAccountToken=4:bool?',
  ObjectReference: 'kind=1 namespace=2 name=3 uid=4 apiVersion=5 resourceVersion=6 fieldPath=7',
  Service: 'metadata=1:ObjectMeta spec=2:ServiceSpec',
  ServiceSpec:
    'ports=1:[]ServicePort selector=2:map clusterIP=3 type=4 externalIPs=5:[]string ' +
    'sessionAffinity=7 loadBalancerIP=8 loadBalancerSourceRanges=9:[]string externalName=10 ' +
    'externalTrafficPolicy=11 healthCheckNodePort=12:int publishNotReadyAddresses=13:bool ' +
    'ipFamilyPolicy=17? clusterIPs=18:[]string ipFamilies=19:[]string ' +
    'allocateLoadBalancerNodePorts=20:bool? loadBalancerClass=21? internalTrafficPolicy=22? ' +
    'trafficDistribution=23?',
  ServicePort:
    'name=1 protocol=2 port=3:int targetPort=4:IntOrString nodePort=5:int appProtocol=6?',

  Deployment: 'metadata=1:ObjectMeta spec=2:DeploymentSpec',
  DeploymentSpec:
    'replicas=1:int? selector=2:LabelSelector? template=3:PodTemplateSpec ' +
    'strategy=4:DeploymentStrategy minReadySeconds=5:int revisionHistoryLimit=6:int? ' +
    'paused=7:bool progressDeadlineSeconds=9:int?',
  DeploymentStrategy: 'type=1 rollingUpdate=2:RollingUpdateDeployment?',
  RollingUpdateDeployment: 'maxUnavailable=1:IntOrString? maxSurge=2:IntOrString?',
  StatefulSet: 'metadata=1:ObjectMeta spec=2:StatefulSetSpec',
  StatefulSetSpec:
    'replicas=1:int? selector=2:LabelSelector? template=3:PodTemplateSpec ' +
    'volumeClaimTemplates=4:[]PersistentVolumeClaim serviceName=5 podManagementPolicy=6 ' +
    'updateStrategy=7:StatefulSetUpdateStrategy revisionHistoryLimit=8:int? ' +
    'minReadySeconds=9:int',
  StatefulSetUpdateStrategy: 'type=1 rollingUpdate=2:RollingUpdateStatefulSetStrategy?',
  RollingUpdateStatefulSetStrategy: 'partition=1:int? maxUnavailable=2:IntOrString?',
  PersistentVolumeClaim: 'metadata=1:ObjectMeta spec=2:PersistentVolumeClaimSpec',
  ReplicaSet: 'metadata=1:ObjectMeta spec=2:ReplicaSetSpec',
  ReplicaSetSpec:
    'replicas=1:int? selector=2:LabelSelector? template=3:PodTemplateSpec minReadySeconds=4:int',
  DaemonSet: 'metadata=1:ObjectMeta spec=2:DaemonSetSpec',
  DaemonSetSpec:
    'selector=1:LabelSelector? template=2:PodTemplateSpec ' +
    'updateStrategy=3:DaemonSetUpdateStrategy minReadySeconds=4:int revisionHistoryLimit=6:int?',
  DaemonSetUpdateStrategy: 'type=1 rollingUpdate=2:RollingUpdateDaemonSet?',
  RollingUpdateDaemonSet: 'maxUnavailable=1:IntOrString? maxSurge=2:IntOrString?',
  Pod: 'metadata=1:ObjectMeta spec=2:PodSpec',

  Job: 'metadata=1:ObjectMeta spec=2:JobSpec',
  JobSpec:
    'parallelism=1:int? completions=2:int? activeDeadlineSeconds=3:int? ' +
    'selector=4:LabelSelector? manualSelector=5:bool? template=6:PodTemplateSpec ' +
    'backoffLimit=7:int? ttlSecondsAfterFinished=8:int? completionMode=9? suspend=10:bool? ' +
    'backoffLimitPerIndex=12:int? maxFailedIndexes=13:int? podReplacementPolicy=14? ' +
    'managedBy=15?',
  CronJob: 'metadata=1:ObjectMeta spec=2:CronJobSpec',
  CronJobSpec:
    'schedule=1 startingDeadlineSeconds=2:int? concurrencyPolicy=3 suspend=4:bool? ' +
    'jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:int? ' +
    'failedJobsHistoryLimit=7:int? timeZone=8?',
  JobTemplateSpec: 'metadata=1:ObjectMeta spec=2:JobSpec',

  Role: 'metadata=1:ObjectMeta rules=2:[]PolicyRule',
  ClusterRole: 'metadata=1:ObjectMeta rules=2:[]PolicyRule aggregationRule=3:AggregationRule?',
  PolicyRule:
    'verbs=1:[]string apiGroups=2:[]string resources=3:[]string resourceNames=4:[]string ' +
    'nonResourceURLs=5:[]string',
  AggregationRule: 'clusterRoleSelectors=1:[]LabelSelector',
  RoleBinding: 'metadata=1:ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef',
  ClusterRoleBinding: 'metadata=1:ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef',
  Subject: 'kind=1 apiGroup=2 name=3 namespace=4',
  RoleRef: 'apiGroup=1 kind=2 name=3',
};

/** One field of a message: its JSON name, value type, and how Go declares it. */
export interface FieldDescriptor {
  name: string;
  /** A scalar type, `map`, `map:<value type>`, or a message name. */
  type: string;
  repeated: boolean;
  /** A Go pointer: written only when set, so a zero value on the wire is kept. */
  pointer: boolean;
  /** A Go embedded struct: its fields go inline into the enclosing JSON object. */
  inline: boolean;
}

/** Every message the decoder knows, field number to descriptor. */
export const messageDescriptors: ReadonlyMap<
  string,
  ReadonlyMap<number, FieldDescriptor>
> = new Map(
  Object.entries({ ...objectMessages, ...podMessages }).map(([message, notation]) => [
    message,
    parseNotation(notation),
  ]),
);

/** The kinds a protobuf body may carry: the top-level messages of these tables. */
export const decodableKinds = [
  'Namespace',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Service',
  'Pod',
  'Deployment',
  'StatefulSet',
  'ReplicaSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'DeleteOptions',
];

function parseNotation(notation: string): Map<number, FieldDescriptor> {
  const fields = new Map<number, FieldDescriptor>();
  for (const entry of notation.split(/\s+/).filter(Boolean)) {
    const match = /^(\^?)(\w+)=(\d+)(?::(\[\])?([\w:]+))?(\?)?$/.exec(entry);
    if (!match) throw new Error(`bad protobuf field notation: ${entry}`);
    const [, inline, name, number, repeated, type, pointer] = match;
    fields.set(Number(number), {
      name: name!,
      type: type ?? 'string',
      repeated: repeated !== undefined,
      pointer: pointer !== undefined,
      inline: inline === '^',
    });
  }
  return fields;
}
