/*
 * The schemas of the core and apps kinds, written for the sandbox: every field name a client
 * may send at the levels kubectl validates and explains, with short descriptions. Deep or
 * rarely used sub-objects (probes, affinity, volume sources) are left open so that any valid
 * manifest passes. A property type is a scalar name, `map` (string to string), `open` (any
 * object), `int-or-string`, `#Name` (a definition), or `[]…` (a list of it).
 */
export interface Definition {
  description: string;
  properties: Record<string, [type: string, description: string]>;
  required?: string[];
  /** Set on top-level kinds: `x-kubernetes-group-version-kind`. */
  kind?: { group: string; version: string; kind: string };
}

const meta =
  'Standard object metadata: name, namespace, labels, annotations and the fields the server sets.';
const top = (
  kind: string,
  group: string,
  description: string,
  fields: Definition['properties'],
): Definition => ({
  description,
  kind: { group, version: 'v1', kind },
  properties: {
    apiVersion: ['string', 'The versioned schema of this object, e.g. apps/v1.'],
    kind: ['string', 'The REST resource this object represents, in CamelCase.'],
    metadata: ['#ObjectMeta', meta],
    ...fields,
  },
});

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

export const definitions: Record<string, Definition> = {
  ObjectMeta: {
    description: meta,
    properties: {
      name: ['string', 'Unique name within the namespace; a DNS-1123 subdomain for most kinds.'],
      generateName: ['string', 'Prefix for a server-generated name when name is empty.'],
      namespace: ['string', 'The namespace the object lives in; empty for cluster-scoped kinds.'],
      uid: ['string', 'Unique identifier set by the server.'],
      resourceVersion: [
        'string',
        'Opaque version of the object, for optimistic concurrency and watches.',
      ],
      generation: ['integer', 'Sequence number of spec changes, set by the server.'],
      creationTimestamp: ['string', 'When the object was created (RFC 3339).'],
      deletionTimestamp: ['string', 'When the object will be deleted; set by the server.'],
      deletionGracePeriodSeconds: ['integer', 'Grace period of a pending deletion.'],
      labels: ['map', 'Key/value pairs for organising and selecting objects.'],
      annotations: ['map', 'Key/value pairs for tools and libraries; not used for selection.'],
      finalizers: ['[]string', 'Conditions that must be cleared before the object is deleted.'],
      ownerReferences: ['[]open', 'Objects this object depends on.'],
      managedFields: ['[]open', 'Which field manager owns which fields (server-side apply).'],
      selfLink: ['string', 'Deprecated; not set.'],
    },
  },
  LabelSelector: {
    description: 'A label query: matchLabels and matchExpressions, all of which must hold.',
    properties: {
      matchLabels: ['map', 'Labels that must be present with these values.'],
      matchExpressions: ['[]open', 'Set-based requirements (In, NotIn, Exists, DoesNotExist).'],
    },
  },
  PodTemplateSpec: {
    description: 'Describes the pods a workload creates.',
    properties: { metadata: ['#ObjectMeta', meta], spec: ['#PodSpec', "The pods' specification."] },
  },
  PodSpec: {
    description: 'The specification of a pod: its containers, volumes and scheduling.',
    required: ['containers'],
    properties: {
      containers: ['[]#Container', 'The containers of the pod; at least one.'],
      initContainers: [
        '[]#Container',
        'Containers run to completion, in order, before the others start.',
      ],
      ephemeralContainers: ['[]open', 'Debugging containers added to a running pod.'],
      volumes: ['[]#Volume', 'Volumes the containers may mount.'],
      serviceAccountName: ['string', 'The service account the pod runs as.'],
      serviceAccount: ['string', 'Deprecated alias of serviceAccountName.'],
      automountServiceAccountToken: ['boolean', 'Whether to mount the service account token.'],
      nodeSelector: ['map', 'Labels a node must have to run the pod.'],
      nodeName: ['string', 'Run on this node, bypassing the scheduler.'],
      affinity: ['open', 'Scheduling constraints.'],
      tolerations: ['[]open', 'Taints the pod tolerates.'],
      topologySpreadConstraints: ['[]open', 'How pods spread across topology domains.'],
      restartPolicy: ['string', 'Always, OnFailure or Never.'],
      terminationGracePeriodSeconds: ['integer', 'Seconds to wait for a graceful stop.'],
      activeDeadlineSeconds: ['integer', 'Seconds the pod may run before it is stopped.'],
      dnsPolicy: ['string', 'ClusterFirst, ClusterFirstWithHostNet, Default or None.'],
      dnsConfig: ['open', 'DNS parameters.'],
      hostNetwork: ['boolean', "Use the host's network namespace."],
      hostPID: ['boolean', "Use the host's PID namespace."],
      hostIPC: ['boolean', "Use the host's IPC namespace."],
      hostUsers: ['boolean', "Use the host's user namespace."],
      hostAliases: ['[]open', 'Extra /etc/hosts entries.'],
      hostname: ['string', "The pod's hostname."],
      hostnameOverride: ['string', 'Overrides the hostname.'],
      subdomain: ['string', "The pod's subdomain."],
      setHostnameAsFQDN: ['boolean', 'Use the fully qualified name as hostname.'],
      shareProcessNamespace: ['boolean', 'Share one process namespace between containers.'],
      securityContext: ['open', 'Pod-level security attributes.'],
      imagePullSecrets: ['[]open', 'Secrets for pulling images.'],
      priority: ['integer', 'Priority value.'],
      priorityClassName: ['string', 'Priority class.'],
      preemptionPolicy: ['string', 'Whether the pod may preempt others.'],
      runtimeClassName: ['string', 'Runtime class.'],
      schedulerName: ['string', 'The scheduler that places the pod.'],
      schedulingGates: ['[]open', 'Gates that hold scheduling.'],
      readinessGates: ['[]open', 'Extra conditions for readiness.'],
      enableServiceLinks: ['boolean', 'Inject service environment variables.'],
      os: ['open', 'The operating system of the containers.'],
      overhead: ['open', 'Resource overhead of the runtime.'],
      resources: ['open', 'Pod-level resource requirements.'],
      resourceClaims: ['[]open', 'Dynamic resource claims.'],
    },
  },
  Container: {
    description: 'A container of a pod.',
    required: ['name'],
    properties: {
      name: ['string', 'Name of the container, unique in the pod (a DNS-1123 label).'],
      image: ['string', 'The image to run; pinned by digest in governed environments.'],
      imagePullPolicy: ['string', 'Always, Never or IfNotPresent.'],
      command: ['[]string', "Entrypoint array; the image's ENTRYPOINT if empty."],
      args: ['[]string', 'Arguments to the entrypoint.'],
      workingDir: ['string', 'Working directory.'],
      env: ['[]#EnvVar', 'Environment variables.'],
      envFrom: ['[]open', 'Sources of environment variables.'],
      ports: ['[]#ContainerPort', 'Ports the container exposes.'],
      resources: ['open', 'Compute resource requests and limits.'],
      resizePolicy: ['[]open', 'How resources are resized.'],
      volumeMounts: ['[]#VolumeMount', 'Volumes mounted into the container.'],
      volumeDevices: ['[]open', 'Block devices used by the container.'],
      livenessProbe: ['open', 'Restart the container when this probe fails.'],
      readinessProbe: ['open', 'Take the container out of service when this probe fails.'],
      startupProbe: ['open', 'Holds the other probes until the container has started.'],
      lifecycle: ['open', 'Actions on start and stop.'],
      securityContext: ['open', 'Container-level security attributes.'],
      restartPolicy: ['string', 'Restart policy of an init container (Always for sidecars).'],
      restartPolicyRules: ['[]open', 'Restart rules by exit code.'],
      terminationMessagePath: ['string', 'File the termination message is read from.'],
      terminationMessagePolicy: ['string', 'File or FallbackToLogsOnError.'],
      stdin: ['boolean', 'Allocate a stdin buffer.'],
      stdinOnce: ['boolean', 'Close stdin after the first attach.'],
      tty: ['boolean', 'Allocate a TTY.'],
    },
  },
  EnvVar: {
    description: 'An environment variable.',
    required: ['name'],
    properties: {
      name: ['string', 'Name of the variable.'],
      value: ['string', 'Its value.'],
      valueFrom: ['open', 'Where its value comes from (secret, config map, field).'],
    },
  },
  ContainerPort: {
    description: 'A network port of a container.',
    required: ['containerPort'],
    properties: {
      containerPort: ['integer', "Port number on the pod's IP address."],
      name: ['string', 'Name services can refer to (an IANA service name).'],
      protocol: ['string', 'TCP (the default), UDP or SCTP.'],
      hostPort: ['integer', 'Port on the host.'],
      hostIP: ['string', 'Host IP to bind to.'],
    },
  },
  VolumeMount: {
    description: 'A volume mounted into a container.',
    required: ['name', 'mountPath'],
    properties: {
      name: ['string', 'Name of the volume.'],
      mountPath: ['string', 'Path in the container.'],
      readOnly: ['boolean', 'Mount read-only.'],
      recursiveReadOnly: ['string', 'Recursive read-only mode.'],
      subPath: ['string', 'Sub-path of the volume to mount.'],
      subPathExpr: ['string', 'Sub-path with environment variable expansion.'],
      mountPropagation: ['string', 'Mount propagation mode.'],
    },
  },
  Volume: {
    description: 'A named volume; its source is one of the volume types.',
    required: ['name'],
    properties: { name: ['string', 'Name of the volume.'] },
  },
};

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
      strategy: ['open', 'How old pods are replaced by new ones (RollingUpdate or Recreate).'],
      progressDeadlineSeconds: [
        'integer',
        'Seconds a rollout may make no progress before it is failed.',
      ],
      paused: ['boolean', 'Whether the Deployment is paused.'],
    }),
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
      updateStrategy: ['open', 'How pods are updated.'],
      volumeClaimTemplates: ['[]open', 'Claims each pod gets.'],
      persistentVolumeClaimRetentionPolicy: [
        'open',
        'What happens to claims on scale-down and delete.',
      ],
      ordinals: ['open', 'The first ordinal.'],
    }),
  },
  DaemonSet: top('DaemonSet', 'apps', 'A DaemonSet runs one pod on each eligible node.', {
    spec: ['#DaemonSetSpec', 'The desired state of the DaemonSet.'],
    status: ['open', 'The observed state.'],
  }),
  DaemonSetSpec: {
    description: 'The desired state of a DaemonSet.',
    required: ['selector', 'template'],
    properties: workloadSpec({ updateStrategy: ['open', 'How pods are updated.'] }),
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
