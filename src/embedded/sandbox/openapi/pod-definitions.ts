import { metadataDescription as meta, type Definition } from './schema-notation.ts';

const affinityTerms = (kind: string): Definition['properties'] => ({
  requiredDuringSchedulingIgnoredDuringExecution: [
    '[]#PodAffinityTerm',
    `Terms that must hold for the pod to be scheduled (${kind}).`,
  ],
  preferredDuringSchedulingIgnoredDuringExecution: [
    '[]#WeightedPodAffinityTerm',
    `Terms the scheduler prefers, by weight (${kind}).`,
  ],
});

/** The pod template and pod spec, with scheduling and pod-level security. */
export const podDefinitions: Record<string, Definition> = {
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
      affinity: ['#Affinity', 'Node affinity and pod (anti-)affinity scheduling constraints.'],
      tolerations: ['[]#Toleration', 'Taints the pod tolerates.'],
      topologySpreadConstraints: [
        '[]#TopologySpreadConstraint',
        'How pods spread across topology domains.',
      ],
      restartPolicy: ['string', 'Always, OnFailure or Never.'],
      terminationGracePeriodSeconds: ['integer', 'Seconds to wait for a graceful stop.'],
      activeDeadlineSeconds: ['integer', 'Seconds the pod may run before it is stopped.'],
      dnsPolicy: ['string', 'ClusterFirst, ClusterFirstWithHostNet, Default or None.'],
      dnsConfig: ['open', 'DNS parameters: nameservers, searches, options.'],
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
      securityContext: ['#PodSecurityContext', 'Pod-level security attributes.'],
      imagePullSecrets: ['[]#LocalObjectReference', 'Secrets for pulling images.'],
      priority: ['integer', 'Priority value.'],
      priorityClassName: ['string', 'Priority class.'],
      preemptionPolicy: ['string', 'Whether the pod may preempt others.'],
      runtimeClassName: ['string', 'Runtime class.'],
      schedulerName: ['string', 'The scheduler that places the pod.'],
      schedulingGates: ['[]open', 'Gates that hold scheduling.'],
      readinessGates: ['[]open', 'Extra conditions for readiness.'],
      enableServiceLinks: ['boolean', 'Inject service environment variables.'],
      os: ['open', 'The operating system of the containers.'],
      overhead: ['quantities', 'Resource overhead of the runtime.'],
      resources: ['#ResourceRequirements', 'Pod-level resource requirements.'],
      resourceClaims: ['[]open', 'Dynamic resource claims.'],
    },
  },
  PodSecurityContext: {
    description: 'Security attributes that apply to every container of the pod.',
    properties: {
      runAsUser: ['integer', 'UID the containers run as.'],
      runAsGroup: ['integer', 'GID the containers run as.'],
      runAsNonRoot: ['boolean', 'Refuse to start containers that would run as root.'],
      fsGroup: ['integer', 'Group that owns mounted volumes and is added to every container.'],
      fsGroupChangePolicy: ['string', 'OnRootMismatch or Always.'],
      supplementalGroups: ['[]integer', 'Extra groups of the first process of each container.'],
      supplementalGroupsPolicy: ['string', 'Merge or Strict.'],
      seccompProfile: ['#SeccompProfile', 'The seccomp profile of the containers.'],
      appArmorProfile: ['open', 'The AppArmor profile of the containers.'],
      seLinuxOptions: ['#SELinuxOptions', 'The SELinux context of the containers.'],
      seLinuxChangePolicy: ['string', 'How the SELinux label is applied to volumes.'],
      sysctls: ['[]#Sysctl', 'Namespaced sysctls set for the pod.'],
      windowsOptions: ['open', 'Windows-specific settings.'],
    },
  },
  SeccompProfile: {
    description: 'A seccomp profile.',
    required: ['type'],
    properties: {
      type: ['string', 'RuntimeDefault, Localhost or Unconfined.'],
      localhostProfile: ['string', 'Path of a profile on the node, for Localhost.'],
    },
  },
  SELinuxOptions: {
    description: 'An SELinux context.',
    properties: {
      user: ['string', 'SELinux user.'],
      role: ['string', 'SELinux role.'],
      type: ['string', 'SELinux type.'],
      level: ['string', 'SELinux level.'],
    },
  },
  Sysctl: {
    description: 'A kernel parameter.',
    required: ['name', 'value'],
    properties: { name: ['string', 'Its name.'], value: ['string', 'Its value.'] },
  },
  LocalObjectReference: {
    description: 'A reference to an object in the same namespace.',
    properties: { name: ['string', 'Name of the referent.'] },
  },
  Toleration: {
    description: 'Lets the pod run on nodes with a matching taint.',
    properties: {
      key: ['string', 'The taint key; empty with Exists matches every taint.'],
      operator: ['string', 'Equal (the default) or Exists.'],
      value: ['string', 'The taint value, for Equal.'],
      effect: ['string', 'NoSchedule, PreferNoSchedule or NoExecute; empty matches all.'],
      tolerationSeconds: ['integer', 'How long a NoExecute taint is tolerated.'],
    },
  },
  TopologySpreadConstraint: {
    description: 'How matching pods spread across a topology domain.',
    required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
    properties: {
      maxSkew: ['integer', 'The largest allowed difference in pod count between domains.'],
      topologyKey: ['string', 'The node label that defines the domains.'],
      whenUnsatisfiable: ['string', 'DoNotSchedule or ScheduleAnyway.'],
      labelSelector: ['#LabelSelector', 'The pods counted.'],
      minDomains: ['integer', 'The least number of eligible domains.'],
      matchLabelKeys: ['[]string', 'Label keys whose values narrow the pods counted.'],
      nodeAffinityPolicy: ['string', 'Honor or Ignore the pod node affinity.'],
      nodeTaintsPolicy: ['string', 'Honor or Ignore node taints.'],
    },
  },
  Affinity: {
    description: 'Scheduling constraints relative to nodes and to other pods.',
    properties: {
      nodeAffinity: ['#NodeAffinity', 'Which nodes the pod may or prefers to run on.'],
      podAffinity: ['#PodAffinity', 'Pods this pod should run near.'],
      podAntiAffinity: ['#PodAntiAffinity', 'Pods this pod should run away from.'],
    },
  },
  NodeAffinity: {
    description: 'Node affinity scheduling rules.',
    properties: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        '#NodeSelector',
        'Nodes the pod must run on.',
      ],
      preferredDuringSchedulingIgnoredDuringExecution: [
        '[]#PreferredSchedulingTerm',
        'Nodes the scheduler prefers, by weight.',
      ],
    },
  },
  NodeSelector: {
    description: 'A union of node selector terms: any one must match.',
    required: ['nodeSelectorTerms'],
    properties: { nodeSelectorTerms: ['[]#NodeSelectorTerm', 'The terms, ORed.'] },
  },
  NodeSelectorTerm: {
    description: 'Requirements on node labels and fields, all of which must hold.',
    properties: {
      matchExpressions: ['[]#NodeSelectorRequirement', 'Requirements on node labels.'],
      matchFields: ['[]#NodeSelectorRequirement', 'Requirements on node fields.'],
    },
  },
  NodeSelectorRequirement: {
    description: 'One requirement on a node label or field.',
    required: ['key', 'operator'],
    properties: {
      key: ['string', 'The label or field key.'],
      operator: ['string', 'In, NotIn, Exists, DoesNotExist, Gt or Lt.'],
      values: ['[]string', 'The values compared.'],
    },
  },
  PreferredSchedulingTerm: {
    description: 'A weighted node selector term.',
    required: ['weight', 'preference'],
    properties: {
      weight: ['integer', 'Weight, 1 to 100.'],
      preference: ['#NodeSelectorTerm', 'The term.'],
    },
  },
  PodAffinity: {
    description: 'Pod affinity scheduling rules.',
    properties: affinityTerms('affinity'),
  },
  PodAntiAffinity: {
    description: 'Pod anti-affinity scheduling rules.',
    properties: affinityTerms('anti-affinity'),
  },
  PodAffinityTerm: {
    description: 'Pods, selected by labels and namespaces, that share a topology domain.',
    required: ['topologyKey'],
    properties: {
      labelSelector: ['#LabelSelector', 'The pods this term is about.'],
      namespaces: ['[]string', "Namespaces of those pods; the pod's own when empty."],
      namespaceSelector: ['#LabelSelector', 'Namespaces of those pods, by label.'],
      topologyKey: ['string', 'The node label that defines a domain.'],
      matchLabelKeys: ['[]string', 'Label keys whose values narrow the pods.'],
      mismatchLabelKeys: ['[]string', 'Label keys whose values exclude pods.'],
    },
  },
  WeightedPodAffinityTerm: {
    description: 'A weighted pod affinity term.',
    required: ['weight', 'podAffinityTerm'],
    properties: {
      weight: ['integer', 'Weight, 1 to 100.'],
      podAffinityTerm: ['#PodAffinityTerm', 'The term.'],
    },
  },
};
