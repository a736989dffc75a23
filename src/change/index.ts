import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChangeproofConfig } from '../config/schema.ts';
import type { ChangeSystem } from '../domain/change-system.ts';
import type { Actor } from '../domain/identity.ts';
import { EmbeddedForge, type ForgePolicy } from '../embedded/forge/index.ts';
import type { AllowedSigner } from '../gitops/allowed-signers.ts';
import { LocalIdentity } from '../embedded/identity/index.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Store } from '../store/open.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import type { CheckResult } from './checks.ts';
import { rolesByName, type ChangeContext, type GovernedForge } from './context.ts';
import {
  declareEmergency,
  openOwedChangeRecords,
  overdueRetroReviews,
  recordRetroReview,
  type EmergencyRequest,
} from './emergency.ts';
import { environmentsByOrder } from './governance.ts';
import { ChangeLifecycle } from './lifecycle.ts';
import { NativeChangeSystem } from './native.ts';
import { ChangeService } from './service.ts';

export interface ChangeManagementOptions {
  config: ChangeproofConfig;
  store: Store;
  ledger: Ledger;
  /** The bare config repo. */
  gitDir: string;
  /** Where the forge keeps its allowed-signers file. */
  stateDir: string;
  allowedSigners: AllowedSigner[];
  /** The native change system by default; connected mode passes ServiceNow's. */
  changeSystem?: ChangeSystem;
  /** The embedded forge by default; connected mode passes GitHub's, given the service as policy. */
  forge?: (policy: ForgePolicy) => GovernedForge;
  clock?: () => Date;
  /** The render check; real kustomize by default. */
  checks?: (
    gitDir: string,
    proposal: import('../domain/forge.ts').Proposal,
  ) => Promise<CheckResult>;
}

/**
 * Review and change management, wired: the embedded forge, the change system, the gate, the
 * emergency path, the lifecycle the CD plane drives, and local identities.
 */
export class ChangeManagement {
  readonly forge: GovernedForge;
  readonly service: ChangeService;
  readonly lifecycle: ChangeLifecycle;
  readonly identity: LocalIdentity;
  readonly context: ChangeContext;

  constructor(options: ChangeManagementOptions) {
    const clock = options.clock ?? (() => new Date());
    const context: ChangeContext = {
      config: options.config,
      gitDir: options.gitDir,
      store: options.store,
      ledger: options.ledger,
      changeSystem: options.changeSystem ?? new NativeChangeSystem(options.store, clock),
      clock,
      roles: rolesByName(options.config),
      // The forge and its policy (the service) refer to each other; the forge is set just below.
      forge: undefined as unknown as GovernedForge,
    };
    this.service = new ChangeService(context, options.checks);
    this.forge = options.forge?.(this.service) ?? this.embeddedForge(options, clock);
    context.forge = this.forge;
    this.context = context;
    this.lifecycle = new ChangeLifecycle(context);
    this.identity = new LocalIdentity(options.config, options.store, options.ledger, clock);
  }

  private embeddedForge(options: ChangeManagementOptions, clock: () => Date): EmbeddedForge {
    return new EmbeddedForge({
      gitDir: options.gitDir,
      store: options.store,
      ledger: options.ledger,
      stateDir: options.stateDir,
      allowedSigners: options.allowedSigners,
      environments: environmentsByOrder(options.config),
      policy: this.service,
      clock,
    });
  }

  declareEmergency(actor: Actor, request: EmergencyRequest) {
    return declareEmergency(this.context, actor, request);
  }

  recordRetroReview(
    actor: Actor,
    change: string,
    review: { outcome: 'accepted' | 'rejected'; notes?: string },
  ) {
    return recordRetroReview(this.context, actor, change, review);
  }

  openOwedChangeRecords() {
    return openOwedChangeRecords(this.context);
  }

  overdueRetroReviews(at: Date) {
    return overdueRetroReviews(this.context, at);
  }
}

/**
 * Change management over a workspace, with the forge and change system changeproof.yaml selects
 * (the workspace's connected adapters, else the embedded ones). Allowed commit signers of the
 * embedded forge: the pipeline key, and one SSH public key per person in `keys/signers/<user>.pub`.
 */
export function changeManagementFor(
  ws: WorkspaceContext,
  options: Partial<Pick<ChangeManagementOptions, 'changeSystem' | 'clock' | 'checks'>> = {},
): ChangeManagement {
  const connected = ws.connected;
  return new ChangeManagement({
    config: ws.config,
    store: ws.store,
    ledger: ws.ledger,
    gitDir: ws.paths.configRepo,
    stateDir: join(ws.paths.stateDir, 'forge'),
    allowedSigners: workspaceSigners(ws.paths.keysDir),
    ...(connected?.changeSystem ? { changeSystem: connected.changeSystem } : {}),
    ...(connected?.forgeFor ? { forge: connected.forgeFor } : {}),
    ...options,
  });
}

export function workspaceSigners(keysDir: string): AllowedSigner[] {
  const signers: AllowedSigner[] = [
    { principal: 'pipeline', publicKey: readFileSync(join(keysDir, 'pipeline.pub'), 'utf8') },
  ];
  const humans = join(keysDir, 'signers');
  if (existsSync(humans)) {
    for (const file of readdirSync(humans)
      .filter((f) => f.endsWith('.pub'))
      .sort()) {
      signers.push({
        principal: basename(file, '.pub'),
        publicKey: readFileSync(join(humans, file), 'utf8'),
      });
    }
  }
  return signers;
}
