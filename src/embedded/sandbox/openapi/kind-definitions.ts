import { topLevel as top, type Definition } from './schema-notation.ts';

/*
 * The top-level kinds with a full schema (core and apps), and the specs they hold. Other kinds
 * are served with an open schema.
 */
const workloadSpec = (extra: Definition['properties']): Definition['properties'] => ({
  selector: [
    '#LabelSelector',
    'Label query over pods that the workload manages; must match the template labels.',
  ],
  template: ['#PodTemplateSpec', 'The pods the workload creates.'],
  minReadySeconds: [
    'integer',
    'Seconds a new pod must be ready without crashing to count as available.',
  ],
  revisionHistoryLimit: ['integer', 'How many old revisions to keep for rollback.'],
  ...extra,
});

/** Built-in kinds with a full schema; other kinds are served with an open schema. */
export const kindDefinitions: Record<string, Definition> = {
  Deployment: top(
    'Deployment',
    'apps',
    'A Deployment runs replicated pods and rolls out changes to them.',
    {
      spec: ['#DeploymentSpec', 'The desired state of the Deployment.'],
      status: ['open', 'The observed state, written by the controller.'],
    },
  ),
  DeploymentSpec: {
    description: 'The desired state of a Deployment.',
    required: ['selector', 'template'],
    properties: workloadSpec({
      replicas: ['integer', 'Number of desired pods; defaults to 1.'],
      strategy: ['#DeploymentStrategy', 'How old pods are replaced by new ones.'],
      progressDeadlineSeconds: [
        'integer',
        'Seconds a rollout may make no progress before it is failed.',
      ],
      paused: ['boolean', 'Whether the Deployment is paused.'],
    }),
  },
  DeploymentStrategy: {
    description: 'How a Deployment replaces old pods with new ones.',
    properties: {
      type: ['string', 'RollingUpdate (the default) or Recreate.'],
      rollingUpdate: ['#RollingUpdateDeployment', 'Parameters of a rolling update.'],
    },
  },
  RollingUpdateDeployment: {
    description: 'How fast a rolling update replaces pods.',
    properties: {
      maxUnavailable: ['int-or-string', 'Pods that may be unavailable during the update (25%).'],
      maxSurge: ['int-or-string', 'Pods that may be created above the desired count (25%).'],
    },
  },
  StatefulSet: top(
    'StatefulSet',
    'apps',
    'A StatefulSet runs pods with stable identities and storage.',
    {
      spec: ['#StatefulSetSpec', 'The desired state of the StatefulSet.'],
      status: ['open', 'The observed state.'],
    },
  ),
  StatefulSetSpec: {
    description: 'The desired state of a StatefulSet.',
    required: ['selector', 'template'],
    properties: workloadSpec({
      replicas: ['integer', 'Number of desired pods.'],
      serviceName: ['string', 'The governing headless service.'],
      podManagementPolicy: ['string', 'OrderedReady or Parallel.'],
      updateStrategy: ['#StatefulSetUpdateStrategy', 'How pods are updated.'],
      volumeClaimTemplates: ['[]open', 'Claims each pod gets.'],
      persistentVolumeClaimRetentionPolicy: [
        'open',
        'What happens to claims on scale-down and delete.',
      ],
      ordinals: ['open', 'The first ordinal.'],
    }),
  },
  StatefulSetUpdateStrategy: {
    description: 'How a StatefulSet updates its pods.',
    properties: {
      type: ['string', 'RollingUpdate (the default) or OnDelete.'],
      rollingUpdate: ['#RollingUpdateStatefulSetStrategy', 'Parameters of a rolling update.'],
    },
  },
  RollingUpdateStatefulSetStrategy: {
    description: 'Parameters of a StatefulSet rolling update.',
    properties: {
      partition: ['integer', 'Only pods with an ordinal at or above this are updated.'],
      maxUnavailable: ['int-or-string', 'Pods that may be unavailable during the update.'],
    },
  },
  DaemonSet: top('DaemonSet', 'apps', 'A DaemonSet runs one pod on each eligible node.', {
    spec: ['#DaemonSetSpec', 'The desired state of the DaemonSet.'],
    status: ['open', 'The observed state.'],
  }),
  DaemonSetSpec: {
    description: 'The desired state of a DaemonSet.',
    required: ['selector', 'template'],
    properties: workloadSpec({
      updateStrategy: ['#DaemonSetUpdateStrategy', 'How pods are updated.'],
    }),
  },
  DaemonSetUpdateStrategy: {
    description: 'How a DaemonSet updates its pods.',
    properties: {
      type: ['string', 'RollingUpdate (the default) or OnDelete.'],
      rollingUpdate: ['#RollingUpdateDaemonSet', 'Parameters of a rolling update.'],
    },
  },
  RollingUpdateDaemonSet: {
    description: 'Parameters of a DaemonSet rolling update.',
    properties: {
      maxUnavailable: ['int-or-string', 'Nodes whose pod may be unavailable during the update.'],
      maxSurge: ['int-or-string', 'Nodes that may run an extra new pod during the update.'],
    },
  },
  ReplicaSet: top('ReplicaSet', 'apps', 'A ReplicaSet keeps a number of identical pods running.', {
    spec: ['#ReplicaSetSpec', 'The desired state of the ReplicaSet.'],
    status: ['open', 'The observed state.'],
  }),
  ReplicaSetSpec: {
    description: 'The desired state of a ReplicaSet.',
    required: ['selector'],
    properties: workloadSpec({ replicas: ['integer', 'Number of desired pods.'] }),
  },
  Pod: top('Pod', '', 'A Pod is a group of containers scheduled together.', {
    spec: ['#PodSpec', 'The desired state of the pod.'],
    status: ['open', 'The observed state.'],
  }),
  Service: top(
    'Service',
    '',
    'A Service exposes pods selected by labels under one name and address.',
    {
      spec: ['#ServiceSpec', 'The desired state of the Service.'],
      status: ['open', 'The observed state.'],
    },
  ),
  ServiceSpec: {
    description: 'The desired state of a Service.',
    properties: {
      type: ['string', 'ClusterIP (the default), NodePort, LoadBalancer or ExternalName.'],
      selector: ['map', 'Pods with these labels receive the traffic.'],
      ports: ['[]#ServicePort', 'The ports the Service exposes.'],
      clusterIP: ['string', 'The virtual IP; None for a headless service.'],
      clusterIPs: ['[]string', 'The virtual IPs, one per family.'],
      externalIPs: ['[]string', 'External IPs routed to the Service.'],
      externalName: ['string', 'DNS name for ExternalName services.'],
      externalTrafficPolicy: ['string', 'Cluster or Local.'],
      internalTrafficPolicy: ['string', 'Cluster or Local.'],
      healthCheckNodePort: ['integer', 'Health check port for Local traffic policy.'],
      ipFamilies: ['[]string', 'IPv4 and/or IPv6.'],
      ipFamilyPolicy: ['string', 'SingleStack, PreferDualStack or RequireDualStack.'],
      loadBalancerIP: ['string', 'Deprecated requested load balancer IP.'],
      loadBalancerClass: ['string', 'The load balancer implementation.'],
      loadBalancerSourceRanges: ['[]string', 'Client ranges allowed through the load balancer.'],
      allocateLoadBalancerNodePorts: ['boolean', 'Whether node ports are allocated.'],
      publishNotReadyAddresses: ['boolean', 'Publish addresses of pods that are not ready.'],
      sessionAffinity: ['string', 'ClientIP or None.'],
      sessionAffinityConfig: ['open', 'Session affinity settings.'],
      trafficDistribution: ['string', 'Traffic distribution preference.'],
    },
  },
  ServicePort: {
    description: 'A port of a Service.',
    required: ['port'],
    properties: {
      name: ['string', 'Name of the port, required when there are several.'],
      port: ['integer', 'The port the Service exposes.'],
      targetPort: ['int-or-string', "The pods' port number or name."],
      protocol: ['string', 'TCP (the default), UDP or SCTP.'],
      nodePort: ['integer', 'Port on each node for NodePort and LoadBalancer services.'],
      appProtocol: ['string', 'Application protocol.'],
    },
  },
  ConfigMap: top('ConfigMap', '', 'A ConfigMap holds configuration for pods to consume.', {
    data: ['map', 'Configuration data (UTF-8).'],
    binaryData: ['map', 'Binary configuration data, base64.'],
    immutable: ['boolean', 'Whether the data may no longer change.'],
  }),
  Secret: top('Secret', '', 'A Secret holds a small amount of sensitive data.', {
    data: ['map', 'Secret data, base64.'],
    stringData: ['map', 'Secret data as plain strings, merged into data on write.'],
    type: ['string', 'The type of secret, e.g. Opaque.'],
    immutable: ['boolean', 'Whether the data may no longer change.'],
  }),
  ServiceAccount: top(
    'ServiceAccount',
    '',
    'A ServiceAccount is an identity for processes in pods.',
    {
      secrets: ['[]open', 'Secrets the service account may use.'],
      imagePullSecrets: ['[]open', 'Secrets for pulling images.'],
      automountServiceAccountToken: ['boolean', 'Whether pods mount its token.'],
    },
  ),
  Namespace: top('Namespace', '', 'A Namespace scopes names and policies.', {
    spec: ['open', 'The finalizers of the namespace.'],
    status: ['open', 'The phase of the namespace: Active or Terminating.'],
  }),
};
