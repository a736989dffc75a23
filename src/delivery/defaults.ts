import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The OSV advisories shipped for the demo service, read by the scan gate in local mode. */
export const bundledAdvisoriesDir = join(repoRoot, 'fixtures', 'advisories');

/** The demo service's application source. */
export const demoAppDir = join(repoRoot, 'fixtures', 'demo-app');

/**
 * The SLSA builder id of this run: the CI job when one is recognisable from its environment,
 * otherwise changeproof run by a person.
 */
export function defaultBuilderId(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
  }
  if (env.JENKINS_URL && env.JOB_NAME)
    return `${env.JENKINS_URL.replace(/\/$/, '')}/job/${env.JOB_NAME}`;
  return 'https://changeproof.dev/builders/local@v1';
}

/** The pipeline's git identity on config commits; the key that signs them is the broker's. */
export const pipelineGitIdentity = {
  name: 'changeproof pipeline',
  email: 'pipeline@changeproof.local',
};
