/** The OCI image configuration (image spec v1.1, `application/vnd.oci.image.config.v1+json`). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** What the build sets on top of the base image's configuration. */
export interface RuntimeSettings {
  entrypoint?: string[];
  cmd?: string[];
  /** Variables set on top of the base image's; a later value wins. */
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  exposedPorts?: string[];
}

export const SourceLabel = 'org.opencontainers.image.source';
export const RevisionLabel = 'org.opencontainers.image.revision';

/**
 * Merges the build's settings over the base configuration. As with a Dockerfile, a new
 * entrypoint clears an inherited cmd unless a cmd is given too.
 */
export function mergeContainerConfig(
  base: ContainerConfig | undefined,
  settings: RuntimeSettings,
): ContainerConfig {
  const merged: ContainerConfig = { ...base };
  if (settings.user !== undefined) merged.User = settings.user;
  if (settings.exposedPorts?.length) {
    merged.ExposedPorts = { ...merged.ExposedPorts };
    for (const port of settings.exposedPorts) merged.ExposedPorts[port] = {};
  }
  if (settings.env) merged.Env = mergeEnv(merged.Env ?? [], settings.env);
  if (settings.entrypoint) {
    merged.Entrypoint = settings.entrypoint;
    if (!settings.cmd) delete merged.Cmd;
  }
  if (settings.cmd) merged.Cmd = settings.cmd;
  if (settings.workingDir !== undefined) merged.WorkingDir = settings.workingDir;
  if (settings.labels) merged.Labels = { ...merged.Labels, ...settings.labels };
  return merged;
}

function mergeEnv(base: string[], overrides: Record<string, string>): string[] {
  const names = new Set(Object.keys(overrides));
  const kept = base.filter((entry) => !names.has(entry.split('=')[0] ?? ''));
  return [...kept, ...Object.entries(overrides).map(([name, value]) => `${name}=${value}`)];
}

/** RFC 3339 time of a SOURCE_DATE_EPOCH value, so `created` is as reproducible as the layers. */
export function epochToTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}
