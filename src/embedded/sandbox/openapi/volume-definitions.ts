import type { Definition } from './schema-notation.ts';

// In-tree volume plugins that are deprecated or cloud-specific: accepted, not described.
const legacySources = [
  'awsElasticBlockStore',
  'azureDisk',
  'azureFile',
  'cephfs',
  'cinder',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'gitRepo',
  'glusterfs',
  'iscsi',
  'photonPersistentDisk',
  'portworxVolume',
  'quobyte',
  'rbd',
  'scaleIO',
  'storageos',
  'vsphereVolume',
];

const items: [string, string] = [
  '[]#KeyToPath',
  'Keys to project, each to a path; every key at its own name when empty.',
];
const defaultMode: [string, string] = ['integer', 'Mode bits of the files, 0644 by default.'];

const keyedSource = (kind: string, nameField: string): Definition => ({
  description: `Files from the keys of a ${kind}.`,
  properties: {
    [nameField]: ['string', `Name of the ${kind}.`],
    items,
    defaultMode,
    optional: ['boolean', `Whether the ${kind} may be missing.`],
  },
});

/** A volume and its sources: config maps, secrets, claims, scratch space, projections. */
export const volumeDefinitions: Record<string, Definition> = {
  Volume: {
    description: 'A named volume; its source is exactly one of the volume types.',
    required: ['name'],
    properties: {
      name: ['string', 'Name of the volume, referred to by volumeMounts.'],
      configMap: ['#ConfigMapVolumeSource', 'Files from a config map.'],
      secret: ['#SecretVolumeSource', 'Files from a secret.'],
      emptyDir: ['#EmptyDirVolumeSource', 'Scratch space that lives as long as the pod.'],
      persistentVolumeClaim: [
        '#PersistentVolumeClaimVolumeSource',
        'A persistent volume claimed in the namespace.',
      ],
      projected: ['#ProjectedVolumeSource', 'Several sources in one directory.'],
      downwardAPI: ['#DownwardAPIVolumeSource', "Files from the pod's own fields."],
      hostPath: ['#HostPathVolumeSource', "A path on the node's filesystem."],
      csi: ['open', 'A volume from a CSI driver.'],
      ephemeral: ['open', 'A claim created and deleted with the pod.'],
      image: ['open', 'An OCI image or artifact mounted read-only.'],
      nfs: ['open', 'An NFS export.'],
      ...Object.fromEntries(
        legacySources.map((source): [string, [string, string]] => [
          source,
          ['open', 'An in-tree volume plugin (deprecated or cloud-specific).'],
        ]),
      ),
    },
  },
  ConfigMapVolumeSource: keyedSource('config map', 'name'),
  SecretVolumeSource: keyedSource('secret', 'secretName'),
  KeyToPath: {
    description: 'One key of a config map or secret, projected to a file.',
    required: ['key', 'path'],
    properties: {
      key: ['string', 'The key.'],
      path: ['string', 'Relative path of the file.'],
      mode: ['integer', 'Mode bits of this file.'],
    },
  },
  EmptyDirVolumeSource: {
    description: 'An empty directory created with the pod and removed with it.',
    properties: {
      medium: ['string', 'Empty for node storage, or Memory for tmpfs.'],
      sizeLimit: ['int-or-string', 'The most the directory may hold, e.g. 1Gi.'],
    },
  },
  PersistentVolumeClaimVolumeSource: {
    description: 'A persistent volume claim in the pod namespace.',
    required: ['claimName'],
    properties: {
      claimName: ['string', 'Name of the claim.'],
      readOnly: ['boolean', 'Mount read-only.'],
    },
  },
  HostPathVolumeSource: {
    description: 'A file or directory on the node; refused by most admission policies.',
    required: ['path'],
    properties: {
      path: ['string', 'Path on the node.'],
      type: ['string', 'What must be there, e.g. Directory, DirectoryOrCreate, File, Socket.'],
    },
  },
  ProjectedVolumeSource: {
    description: 'Several volume sources projected into one directory.',
    properties: {
      sources: ['[]#VolumeProjection', 'The sources.'],
      defaultMode,
    },
  },
  VolumeProjection: {
    description: 'One source of a projected volume.',
    properties: {
      configMap: ['#ConfigMapProjection', 'Keys of a config map.'],
      secret: ['#SecretProjection', 'Keys of a secret.'],
      downwardAPI: ['#DownwardAPIProjection', "The pod's own fields."],
      serviceAccountToken: [
        '#ServiceAccountTokenProjection',
        "A token of the pod's service account.",
      ],
      clusterTrustBundle: ['open', 'Certificates of a cluster trust bundle.'],
      podCertificate: ['open', 'A certificate issued to the pod.'],
    },
  },
  ConfigMapProjection: {
    description: 'Keys of a config map in a projected volume.',
    properties: {
      name: ['string', 'Name of the config map.'],
      items,
      optional: ['boolean', 'Whether it may be missing.'],
    },
  },
  SecretProjection: {
    description: 'Keys of a secret in a projected volume.',
    properties: {
      name: ['string', 'Name of the secret.'],
      items,
      optional: ['boolean', 'Whether it may be missing.'],
    },
  },
  DownwardAPIProjection: {
    description: "The pod's own fields in a projected volume.",
    properties: { items: ['[]#DownwardAPIVolumeFile', 'The files.'] },
  },
  ServiceAccountTokenProjection: {
    description: "A bound token of the pod's service account, rotated by the kubelet.",
    required: ['path'],
    properties: {
      path: ['string', 'Relative path of the token file.'],
      audience: ['string', 'Intended audience of the token.'],
      expirationSeconds: ['integer', 'Requested lifetime; 3600 by default.'],
    },
  },
  DownwardAPIVolumeSource: {
    description: "Files holding the pod's own fields.",
    properties: { items: ['[]#DownwardAPIVolumeFile', 'The files.'], defaultMode },
  },
  DownwardAPIVolumeFile: {
    description: 'A file holding one field of the pod or one container resource.',
    required: ['path'],
    properties: {
      path: ['string', 'Relative path of the file.'],
      fieldRef: ['#ObjectFieldSelector', 'A field of the pod (labels, annotations, name...).'],
      resourceFieldRef: ['#ResourceFieldSelector', 'A resource limit or request.'],
      mode: ['integer', 'Mode bits of this file.'],
    },
  },
};
