import { isJsonObject, type KubeObject } from './objects.ts';
import type { ResourceType } from './resources.ts';
import { matchesLabels, requirementsOf, type LabelSelectorObject } from './selectors.ts';
import { invalid, type StatusCause } from './status.ts';

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const subdomainRule =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
  "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for " +
  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelRule =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must " +
  "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for " +
  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const dns1035Rule =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an " +
  "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', " +
  "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/** Checks a name against the rule the API server applies to the type's names. */
export function nameProblem(type: ResourceType, name: string): string | undefined {
  if (type.kind === 'Namespace') {
    return label.test(name) && name.length <= 63 ? undefined : labelRule;
  }
  if (type.kind === 'Service') {
    return dns1035.test(name) && name.length <= 63 ? undefined : dns1035Rule;
  }
  if (type.group === 'rbac.authorization.k8s.io') {
    // RBAC names are path segments: anything but '/', '%' and the dot names.
    return /[/%]/.test(name) || name === '.' || name === '..'
      ? 'may not contain "/" or "%"'
      : undefined;
  }
  return subdomain.test(name) && name.length <= 253 ? undefined : subdomainRule;
}

/**
 * Validates an object before it is stored; throws 422 Invalid naming every bad field, as the
 * API server does. Checks the name, and for workloads that the selector matches the template.
 */
export function validateObject(type: ResourceType, object: KubeObject): void {
  const causes: StatusCause[] = [];
  const name = object.metadata.name;
  if (!name) {
    causes.push({
      reason: 'FieldValueRequired',
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
    });
  } else {
    const problem = nameProblem(type, name);
    if (problem) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: "${name}": ${problem}`,
      });
    }
  }
  if (type.group === 'apps') causes.push(...workloadSelectorProblems(object));
  if (causes.length > 0) throw invalid(type.kind, type.group, name ?? '', causes);
}

function workloadSelectorProblems(object: KubeObject): StatusCause[] {
  const spec = object.spec;
  if (!isJsonObject(spec))
    return [{ reason: 'FieldValueRequired', field: 'spec', message: 'Required value' }];
  const selector = spec.selector;
  if (!isJsonObject(selector)) {
    return [{ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' }];
  }
  const template = isJsonObject(spec.template) ? spec.template : {};
  const metadata = isJsonObject(template.metadata) ? template.metadata : {};
  const labels = (isJsonObject(metadata.labels) ? metadata.labels : {}) as Record<string, string>;
  const requirements = requirementsOf(selector as LabelSelectorObject);
  if (requirements.length > 0 && matchesLabels(requirements, labels)) return [];
  return [
    {
      reason: 'FieldValueInvalid',
      field: 'spec.template.metadata.labels',
      message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
    },
  ];
}
