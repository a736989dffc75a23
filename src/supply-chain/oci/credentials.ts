import { z } from 'zod';
import type { ReadCredentials } from './auth.ts';
import { RegistryError } from './errors.ts';

const basicSecret = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });
const tokenSecret = z.strictObject({ token: z.string().min(1) });

/** Epoch seconds (the ECR API's JSON) or an ISO 8601 time (the AWS CLI's and SDKs' JSON). */
const awsTime = z.union([
  z.number().positive(),
  z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'expected an ISO 8601 time'),
]);

/** One entry of ECR `GetAuthorizationToken`: base64 of `AWS:<password>`, valid 12 hours. */
const ecrAuthorization = z.object({
  authorizationToken: z.base64().min(1),
  expiresAt: awsTime,
  proxyEndpoint: z.string().min(1),
});
const ecrResponse = z.object({ authorizationData: z.array(ecrAuthorization).min(1) });

/** The shape a secret claims by its keys, so that a refusal names the field that is wrong. */
function schemaFor(json: unknown) {
  const keys = json !== null && typeof json === 'object' ? Object.keys(json) : [];
  if (keys.includes('authorizationData')) return ecrResponse;
  if (keys.includes('authorizationToken')) return ecrAuthorization;
  if (keys.includes('token')) return tokenSecret;
  return basicSecret;
}

type EcrAuthorization = z.infer<typeof ecrAuthorization>;

const expectedShapes =
  'expected JSON {username, password}, {token}, or the output of aws ecr get-authorization-token';

/**
 * Reads the registry secret the broker holds for `host` (at `path`, named in errors): HTTP
 * Basic credentials, a bearer token, or an ECR authorization token, whole response or one entry,
 * which becomes Basic credentials that expire at its `expiresAt`. Anything else is refused in
 * one line that never repeats the secret.
 */
export function parseRegistrySecret(text: string, host: string, path: string): ReadCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // the parser's message quotes the input, which is a secret
    throw invalidSecret(path, 'it is not JSON');
  }
  const parsed = schemaFor(json).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw invalidSecret(path, `${issue.message}${where}`);
  }
  const secret = parsed.data;
  if ('username' in secret || 'token' in secret) return { credentials: secret };
  const entries = 'authorizationData' in secret ? secret.authorizationData : [secret];
  const entry = entries.find((candidate) => endpointHost(candidate.proxyEndpoint) === host);
  if (!entry) {
    const hosts = entries.map((candidate) => candidate.proxyEndpoint).join(', ');
    throw new RegistryError(
      'CREDENTIALS_INVALID',
      `broker secret ${path} holds an ECR token for ${hosts}, not ${host}; store the token of ${host}'s registry`,
    );
  }
  return ecrCredentials(entry, path);
}

function ecrCredentials(entry: EcrAuthorization, path: string): ReadCredentials {
  const decoded = Buffer.from(entry.authorizationToken, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 1 || separator === decoded.length - 1) {
    throw invalidSecret(path, 'authorizationToken is not base64 of <user>:<password>');
  }
  const expiresAt =
    typeof entry.expiresAt === 'number'
      ? new Date(entry.expiresAt * 1000)
      : new Date(entry.expiresAt);
  return {
    credentials: { username: decoded.slice(0, separator), password: decoded.slice(separator + 1) },
    expiresAt,
  };
}

/** `https://123.dkr.ecr.eu-west-1.amazonaws.com` → `123.dkr.ecr.eu-west-1.amazonaws.com` */
function endpointHost(proxyEndpoint: string): string | undefined {
  const withScheme = /^[a-z]+:\/\//i.test(proxyEndpoint)
    ? proxyEndpoint
    : `https://${proxyEndpoint}`;
  return URL.canParse(withScheme) ? new URL(withScheme).host : undefined;
}

function invalidSecret(path: string, reason: string): RegistryError {
  return new RegistryError(
    'CREDENTIALS_INVALID',
    `broker secret ${path} is not registry credentials (${reason}); ${expectedShapes}`,
  );
}
