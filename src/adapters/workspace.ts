import type { GovernedForge } from '../change/context.ts';
import type { ChangeproofConfig } from '../config/schema.ts';
import type { ChangeSystem } from '../domain/change-system.ts';
import type { Proposal } from '../domain/forge.ts';
import type { SecretBroker } from '../domain/secret-broker.ts';
import type { ForgePolicy, MergeOptions } from '../embedded/forge/index.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { IncidentSink } from '../reconcile/ports.ts';
import type { Store } from '../store/open.ts';
import type { GithubWebhookReceiver } from './github/index.ts';
import { buildAdapters, type EvidenceSink } from './index.ts';

/**
 * The connected adapters of a workspace, as `openWorkspace` keeps them. A member that is absent
 * is embedded: change management builds the embedded forge and the native change system itself,
 * and the CD engine keeps its incidents in the ledger.
 */
export interface ConnectedPorts {
  /** Change management's forge: the connected forge, answering to the policy it is given. */
  forgeFor?: (policy: ForgePolicy) => GovernedForge;
  changeSystem?: ChangeSystem;
  incidents?: IncidentSink;
  /** The broker the workspace uses: Vault when selected, else the embedded one passed in. */
  secrets: SecretBroker;
  sinks: EvidenceSink[];
  githubWebhooks?: GithubWebhookReceiver;
}

/** True when changeproof.yaml selects any connected adapter the workspace wires. */
export function selectsConnectedAdapters(config: ChangeproofConfig): boolean {
  const { forge, changeSystem, secrets, sinks } = config.adapters;
  return (
    forge !== 'embedded' ||
    changeSystem !== 'embedded' ||
    secrets !== 'embedded' ||
    sinks.length > 0
  );
}

// Stands for "the embedded one" in the factory's answer; change management builds those itself.
const EMBEDDED = Symbol('embedded');

/**
 * Builds the connected ports changeproof.yaml selects, with credentials from `env`. The forge's
 * policy is change management's service, which does not exist yet: it is bound when change
 * management takes the forge (every change management over one workspace is the same policy).
 */
export function connectedPorts(
  config: ChangeproofConfig,
  deps: { ledger: Ledger; store: Store; embeddedSecrets: SecretBroker; env?: NodeJS.ProcessEnv },
): ConnectedPorts {
  const policy = new DeferredForgePolicy();
  const marker = () => EMBEDDED as never;
  const adapters = buildAdapters(config, {
    ledger: deps.ledger,
    store: deps.store,
    ...(deps.env ? { env: deps.env } : {}),
    forgePolicy: policy,
    embedded: {
      forge: marker,
      changeSystem: marker,
      secrets: () => deps.embeddedSecrets,
      incidents: marker,
    },
  });
  const ports: ConnectedPorts = { secrets: adapters.secrets, sinks: adapters.sinks };
  const forge = adapters.forge as unknown;
  if (forge !== EMBEDDED) {
    ports.forgeFor = (servicePolicy) => {
      policy.bind(servicePolicy);
      return forge as GovernedForge;
    };
  }
  if ((adapters.changeSystem as unknown) !== EMBEDDED) ports.changeSystem = adapters.changeSystem;
  if ((adapters.incidents as unknown) !== EMBEDDED) ports.incidents = adapters.incidents;
  if (adapters.githubWebhooks) ports.githubWebhooks = adapters.githubWebhooks;
  return ports;
}

/** A forge policy that forwards to the one bound later (change management's service). */
export class DeferredForgePolicy implements ForgePolicy {
  private target?: ForgePolicy;

  bind(policy: ForgePolicy): void {
    this.target = policy;
  }

  protectionFor(proposal: Proposal, options: MergeOptions) {
    return this.bound().protectionFor(proposal, options);
  }

  rolesOf(user: string): string[] {
    return this.bound().rolesOf(user);
  }

  async changeFor(proposal: Proposal) {
    return this.bound().changeFor?.(proposal);
  }

  async afterOpen(...args: Parameters<NonNullable<ForgePolicy['afterOpen']>>) {
    await this.bound().afterOpen?.(...args);
  }

  async afterPush(proposal: Proposal) {
    await this.bound().afterPush?.(proposal);
  }

  async afterMerge(...args: Parameters<NonNullable<ForgePolicy['afterMerge']>>) {
    await this.bound().afterMerge?.(...args);
  }

  private bound(): ForgePolicy {
    // A forge used before change management exists would merge without governance: refuse.
    if (!this.target) throw new Error('the connected forge has no governance bound yet');
    return this.target;
  }
}
