import type { ChangeproofConfig } from '../config/schema.ts';
import type { ChangeSystem } from '../domain/change-system.ts';
import type { Forge } from '../domain/forge.ts';
import type { SecretBroker } from '../domain/secret-broker.ts';
import type { ForgePolicy } from '../embedded/forge/index.ts';
import { UsageError } from '../errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { IncidentSink } from '../reconcile/ports.ts';
import type { Store } from '../store/open.ts';
import { CdeventsSink } from './cdevents/index.ts';
import { DatadogSink } from './datadog/index.ts';
import { StoreDeliveryClaims } from './delivery-claims.ts';
import { GithubForge, GithubWebhookReceiver } from './github/index.ts';
import { buildOidcLogin, type OidcLogin } from './oidc/index.ts';
import {
  ServiceNowChangeSystem,
  ServiceNowIncidentSink,
  servicenowCredentialsFromEnv,
} from './servicenow/index.ts';
import type { EvidenceSink } from './sink.ts';
import { VaultSecretBroker } from './vault/index.ts';

export type { EvidenceSink } from './sink.ts';
export { forwardLedger } from './sink.ts';

/**
 * What the factory needs from the workspace: the ledger, the store (webhook deliveries are claimed
 * there), and the embedded implementations.
 */
export interface AdapterDependencies {
  ledger: Ledger;
  store: Store;
  /** Where credentials come from; process.env by default. */
  env?: NodeJS.ProcessEnv;
  forgePolicy: ForgePolicy;
  /** The workspace keys folder, where the OIDC session key lives unless the environment has it. */
  keysDir?: string;
  embedded: {
    forge: () => Forge;
    changeSystem: () => ChangeSystem;
    secrets: () => SecretBroker;
    incidents: () => IncidentSink;
  };
}

/** The ports as changeproof.yaml chose them. */
export interface Adapters {
  forge: Forge;
  changeSystem: ChangeSystem;
  secrets: SecretBroker;
  incidents: IncidentSink;
  sinks: EvidenceSink[];
  /** Present with the GitHub forge: mount it at `POST /webhooks/github`. */
  githubWebhooks?: GithubWebhookReceiver;
  /** Present with `identity: oidc`: mount it with `registerOidcRoutes`, use its identity. */
  login?: OidcLogin;
}

/**
 * Builds every port from `config.adapters`: the embedded implementation by default, the
 * connected adapter when selected. Credentials are read here from the environment, never from the
 * config file, and a missing one is a one-line usage error naming the variable.
 *
 * @example
 * const adapters = buildAdapters(config, { ledger, forgePolicy, embedded: { forge: () => embeddedForge, … } });
 */
export function buildAdapters(config: ChangeproofConfig, deps: AdapterDependencies): Adapters {
  const env = deps.env ?? process.env;
  const forge = buildForge(config, deps, env);
  const adapters: Adapters = {
    forge,
    changeSystem: buildChangeSystem(config, deps, env),
    secrets: buildSecretBroker(config, deps),
    incidents: buildIncidentSink(config, deps, env),
    sinks: buildSinks(config, env),
  };
  if (forge instanceof GithubForge) {
    adapters.githubWebhooks = new GithubWebhookReceiver({
      secret: required(env, 'GITHUB_WEBHOOK_SECRET'),
      ledger: deps.ledger,
      forge,
      claims: new StoreDeliveryClaims(deps.store, 'github'),
    });
  }
  if (config.adapters.identity === 'oidc') {
    adapters.login = buildOidcLogin(config.adapters.oidc, {
      env,
      ...(deps.keysDir ? { keysDir: deps.keysDir } : {}),
    });
  }
  return adapters;
}

function buildForge(
  config: ChangeproofConfig,
  deps: AdapterDependencies,
  env: NodeJS.ProcessEnv,
): Forge {
  const settings = config.adapters.github;
  if (config.adapters.forge !== 'github' || !settings) return deps.embedded.forge();
  const token = required(env, 'GITHUB_TOKEN');
  return new GithubForge({
    apiUrl: settings.apiUrl,
    owner: settings.owner,
    repo: settings.repo,
    cloneUrl: settings.cloneUrl ?? `https://github.com/${settings.owner}/${settings.repo}.git`,
    // The control plane's token, or a person's own (GITHUB_TOKEN_<USER>) when they act through
    // changeproof: GitHub attributes a review to the token's owner, never to a name we send.
    tokenFor: (actor) => (actor ? env[userTokenVariable(actor)] : undefined) ?? token,
    ledger: deps.ledger,
    policy: deps.forgePolicy,
  });
}

function servicenowOptions(config: ChangeproofConfig, env: NodeJS.ProcessEnv) {
  const settings = config.adapters.servicenow!;
  return {
    instanceUrl: settings.instanceUrl,
    credentials: servicenowCredentialsFromEnv(settings.auth, env),
    ...(settings.standardTemplate ? { standardTemplate: settings.standardTemplate } : {}),
    ...(settings.assignmentGroup ? { assignmentGroup: settings.assignmentGroup } : {}),
  };
}

function buildChangeSystem(
  config: ChangeproofConfig,
  deps: AdapterDependencies,
  env: NodeJS.ProcessEnv,
): ChangeSystem {
  if (config.adapters.changeSystem !== 'servicenow') return deps.embedded.changeSystem();
  return new ServiceNowChangeSystem(servicenowOptions(config, env));
}

function buildIncidentSink(
  config: ChangeproofConfig,
  deps: AdapterDependencies,
  env: NodeJS.ProcessEnv,
): IncidentSink {
  if (config.adapters.changeSystem !== 'servicenow') return deps.embedded.incidents();
  return new ServiceNowIncidentSink(servicenowOptions(config, env), deps.ledger);
}

function buildSecretBroker(config: ChangeproofConfig, deps: AdapterDependencies): SecretBroker {
  const settings = config.adapters.vault;
  if (config.adapters.secrets !== 'vault' || !settings) return deps.embedded.secrets();
  return new VaultSecretBroker({ ...settings, ledger: deps.ledger });
}

function buildSinks(config: ChangeproofConfig, env: NodeJS.ProcessEnv): EvidenceSink[] {
  const sinks: EvidenceSink[] = [];
  const { datadog, cdevents } = config.adapters;
  if (config.adapters.sinks.includes('datadog') && datadog) {
    sinks.push(new DatadogSink({ ...datadog, apiKey: required(env, 'DD_API_KEY') }));
  }
  if (config.adapters.sinks.includes('cdevents') && cdevents) {
    sinks.push(
      new CdeventsSink({
        ...cdevents,
        ...(env.CDEVENTS_TOKEN ? { token: env.CDEVENTS_TOKEN } : {}),
      }),
    );
  }
  return sinks;
}

/** `GITHUB_TOKEN_<USER>`: the user name upper-cased, other characters as `_`. */
export function userTokenVariable(user: string): string {
  return `GITHUB_TOKEN_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new UsageError(`set ${name} in the environment for the connected adapter`);
  return value;
}
