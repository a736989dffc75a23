import type { Definition } from './schema-notation.ts';

const handler = (what: string): Definition['properties'] => ({
  exec: ['#ExecAction', `Runs a command in the container ${what}.`],
  httpGet: ['#HTTPGetAction', `Sends an HTTP GET ${what}.`],
  tcpSocket: ['#TCPSocketAction', `Opens a TCP connection ${what}.`],
});

const optionalReference = (kind: string): Definition => ({
  description: `Selects a ${kind} in the pod's namespace.`,
  properties: {
    name: ['string', `Name of the ${kind}.`],
    optional: ['boolean', `Whether the ${kind} may be missing.`],
  },
});

const keySelector = (kind: string): Definition => ({
  description: `Selects a key of a ${kind}.`,
  required: ['key'],
  properties: {
    name: ['string', `Name of the ${kind}.`],
    key: ['string', 'The key to select.'],
    optional: ['boolean', `Whether the ${kind} or its key may be missing.`],
  },
});

/** A container and what it holds: environment, ports, resources, probes, security. */
export const containerDefinitions: Record<string, Definition> = {
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
      envFrom: ['[]#EnvFromSource', 'Config maps and secrets whose keys become variables.'],
      ports: ['[]#ContainerPort', 'Ports the container exposes.'],
      resources: ['#ResourceRequirements', 'Compute resource requests and limits.'],
      resizePolicy: ['[]open', 'How resources are resized.'],
      volumeMounts: ['[]#VolumeMount', 'Volumes mounted into the container.'],
      volumeDevices: ['[]open', 'Block devices used by the container.'],
      livenessProbe: ['#Probe', 'Restart the container when this probe fails.'],
      readinessProbe: ['#Probe', 'Take the container out of service when this probe fails.'],
      startupProbe: ['#Probe', 'Holds the other probes until the container has started.'],
      lifecycle: ['#Lifecycle', 'Actions on start and stop.'],
      securityContext: ['#SecurityContext', 'Container-level security attributes.'],
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
      value: ['string', 'Its value; $(VAR) references are expanded.'],
      valueFrom: ['#EnvVarSource', 'Where its value comes from, instead of value.'],
    },
  },
  EnvVarSource: {
    description: 'The source of a variable: one of a config map key, secret key or field.',
    properties: {
      configMapKeyRef: ['#ConfigMapKeySelector', 'A key of a config map.'],
      secretKeyRef: ['#SecretKeySelector', 'A key of a secret.'],
      fieldRef: ['#ObjectFieldSelector', 'A field of the pod, e.g. metadata.name.'],
      resourceFieldRef: ['#ResourceFieldSelector', 'A resource limit or request.'],
      fileKeyRef: ['open', 'A key of an env file in a volume.'],
    },
  },
  ConfigMapKeySelector: keySelector('config map'),
  SecretKeySelector: keySelector('secret'),
  ObjectFieldSelector: {
    description: 'Selects a field of the pod.',
    required: ['fieldPath'],
    properties: {
      fieldPath: ['string', 'Path of the field, e.g. metadata.namespace or status.podIP.'],
      apiVersion: ['string', 'Version of the schema the path is written in; v1.'],
    },
  },
  ResourceFieldSelector: {
    description: 'Selects a resource limit or request of a container.',
    required: ['resource'],
    properties: {
      containerName: ['string', 'The container; required in volumes.'],
      resource: ['string', 'e.g. limits.cpu or requests.memory.'],
      divisor: ['int-or-string', 'The unit of the value, e.g. 1Mi; 1 by default.'],
    },
  },
  EnvFromSource: {
    description: 'A config map or secret whose keys all become environment variables.',
    properties: {
      prefix: ['string', 'Prepended to every key.'],
      configMapRef: ['#ConfigMapEnvSource', 'The config map.'],
      secretRef: ['#SecretEnvSource', 'The secret.'],
    },
  },
  ConfigMapEnvSource: optionalReference('config map'),
  SecretEnvSource: optionalReference('secret'),
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
  ResourceRequirements: {
    description: 'Compute resources: what the container is guaranteed and what it may use.',
    properties: {
      requests: ['quantities', 'Resources reserved for the container, e.g. cpu: 100m.'],
      limits: ['quantities', 'The most the container may use, e.g. memory: 256Mi.'],
      claims: ['[]open', 'Dynamic resource claims the container uses.'],
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
  Probe: {
    description: 'A health check: one handler and when to run it.',
    properties: {
      ...handler('to probe'),
      grpc: ['#GRPCAction', 'Calls the gRPC health checking protocol.'],
      initialDelaySeconds: ['integer', 'Seconds after start before the first probe.'],
      periodSeconds: ['integer', 'Seconds between probes; 10 by default.'],
      timeoutSeconds: ['integer', 'Seconds a probe may take; 1 by default.'],
      successThreshold: ['integer', 'Successes in a row that count as healthy.'],
      failureThreshold: ['integer', 'Failures in a row that count as unhealthy; 3 by default.'],
      terminationGracePeriodSeconds: ['integer', 'Grace period when a failed probe kills.'],
    },
  },
  ExecAction: {
    description: 'A command run in the container; exit status 0 is success.',
    properties: { command: ['[]string', 'The command line, not run in a shell.'] },
  },
  HTTPGetAction: {
    description: 'An HTTP GET; any status from 200 to 399 is success.',
    required: ['port'],
    properties: {
      path: ['string', 'The path to request.'],
      port: ['int-or-string', 'Port number or name on the container.'],
      host: ['string', "Host to connect to; the pod's IP by default."],
      scheme: ['string', 'HTTP (the default) or HTTPS.'],
      httpHeaders: ['[]#HTTPHeader', 'Headers to send.'],
    },
  },
  HTTPHeader: {
    description: 'An HTTP header.',
    required: ['name', 'value'],
    properties: { name: ['string', 'Header name.'], value: ['string', 'Header value.'] },
  },
  TCPSocketAction: {
    description: 'A TCP connection; success when it opens.',
    required: ['port'],
    properties: {
      port: ['int-or-string', 'Port number or name on the container.'],
      host: ['string', "Host to connect to; the pod's IP by default."],
    },
  },
  GRPCAction: {
    description: 'A gRPC health check.',
    required: ['port'],
    properties: {
      port: ['integer', 'Port number of the gRPC service.'],
      service: ['string', 'Service name sent in the health check request.'],
    },
  },
  Lifecycle: {
    description: 'Actions the kubelet takes when the container starts and stops.',
    properties: {
      postStart: ['#LifecycleHandler', 'Runs right after the container is created.'],
      preStop: ['#LifecycleHandler', 'Runs before the container is stopped.'],
      stopSignal: ['string', 'The signal that stops the container.'],
    },
  },
  LifecycleHandler: {
    description: 'One lifecycle action.',
    properties: {
      ...handler('as the action'),
      sleep: ['open', 'Sleeps for a number of seconds.'],
    },
  },
  SecurityContext: {
    description: 'Security attributes of one container; they override the pod-level ones.',
    properties: {
      runAsUser: ['integer', 'UID the container runs as.'],
      runAsGroup: ['integer', 'GID the container runs as.'],
      runAsNonRoot: ['boolean', 'Refuse to start if the container would run as root.'],
      privileged: ['boolean', 'Run privileged, as root on the host.'],
      allowPrivilegeEscalation: ['boolean', 'Whether a process may gain more privileges.'],
      readOnlyRootFilesystem: ['boolean', 'Mount the root filesystem read-only.'],
      capabilities: ['#Capabilities', 'Linux capabilities to add and drop.'],
      seccompProfile: ['#SeccompProfile', 'The seccomp profile.'],
      appArmorProfile: ['open', 'The AppArmor profile.'],
      seLinuxOptions: ['#SELinuxOptions', 'The SELinux context.'],
      procMount: ['string', 'Default or Unmasked.'],
      windowsOptions: ['open', 'Windows-specific settings.'],
    },
  },
  Capabilities: {
    description: 'Linux capabilities.',
    properties: {
      add: ['[]string', 'Capabilities to add, e.g. NET_BIND_SERVICE.'],
      drop: ['[]string', 'Capabilities to drop, e.g. ALL.'],
    },
  },
};
