import { badRequest } from './status.ts';
import type { KubeObject } from './objects.ts';

/** One requirement of a label selector, e.g. `tier in (web,api)` or `!legacy`. */
export interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** The `matchLabels` / `matchExpressions` form used inside objects (webhooks, workloads). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Parses the `labelSelector` query string: equality (`a=b`, `a==b`, `a!=b`), set-based
 * (`a in (x,y)`, `a notin (x)`), existence (`a`, `!a`), comma-separated and all required.
 */
export function parseLabelSelector(text: string): Requirement[] {
  const requirements: Requirement[] = [];
  for (const term of splitTerms(text)) {
    const trimmed = term.trim();
    if (!trimmed) continue;
    requirements.push(parseTerm(trimmed));
  }
  return requirements;
}

// Splits on commas outside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`].
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      terms.push(text.slice(start, index));
      start = index + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

const setTerm = /^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)$/;
const equalityTerm = /^([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)$/;
const existsTerm = /^(!?)\s*([A-Za-z0-9_./-]+)$/;

function parseTerm(term: string): Requirement {
  const set = setTerm.exec(term);
  if (set) {
    const values = set[3]!.split(',').map((value) => value.trim());
    return { key: set[1]!, operator: set[2] === 'in' ? 'In' : 'NotIn', values };
  }
  const equality = equalityTerm.exec(term);
  if (equality) {
    const operator = equality[2] === '!=' ? 'NotIn' : 'In';
    return { key: equality[1]!, operator, values: [equality[3]!] };
  }
  const exists = existsTerm.exec(term);
  if (exists) {
    return { key: exists[2]!, operator: exists[1] ? 'DoesNotExist' : 'Exists', values: [] };
  }
  throw badRequest(`unable to parse requirement: invalid label selector term "${term}"`);
}

/** Converts an object-form selector to requirements; an empty selector matches everything. */
export function requirementsOf(selector: LabelSelectorObject | undefined): Requirement[] {
  if (!selector) return [];
  const requirements: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(
    ([key, value]) => ({ key, operator: 'In', values: [value] }),
  );
  for (const expression of selector.matchExpressions ?? []) {
    const operator = expression.operator as Requirement['operator'];
    requirements.push({ key: expression.key, operator, values: expression.values ?? [] });
  }
  return requirements;
}

export function matchesLabels(
  requirements: Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  return requirements.every((requirement) => {
    const value = labels?.[requirement.key];
    switch (requirement.operator) {
      case 'In':
        return value !== undefined && requirement.values.includes(value);
      case 'NotIn':
        return value === undefined || !requirement.values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
    }
  });
}

/** One `fieldSelector` term; the sandbox supports the fields every type has. */
export interface FieldRequirement {
  field: 'metadata.name' | 'metadata.namespace';
  equals: boolean;
  value: string;
}

export function parseFieldSelector(text: string): FieldRequirement[] {
  const requirements: FieldRequirement[] = [];
  for (const term of text.split(',')) {
    if (!term.trim()) continue;
    const match = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
    const field = match?.[1];
    if (!match || (field !== 'metadata.name' && field !== 'metadata.namespace')) {
      throw badRequest(`field label not supported: ${match?.[1] ?? term}`);
    }
    requirements.push({ field, equals: match[2] !== '!=', value: match[3]! });
  }
  return requirements;
}

export function matchesFields(requirements: FieldRequirement[], object: KubeObject): boolean {
  return requirements.every((requirement) => {
    const actual =
      requirement.field === 'metadata.name'
        ? object.metadata.name
        : (object.metadata.namespace ?? '');
    return (actual === requirement.value) === requirement.equals;
  });
}

/** A parsed selector pair, applied to lists and watches alike. */
export interface ObjectFilter {
  labels: Requirement[];
  fields: FieldRequirement[];
}

export function parseFilter(query: URLSearchParams): ObjectFilter {
  return {
    labels: parseLabelSelector(query.get('labelSelector') ?? ''),
    fields: parseFieldSelector(query.get('fieldSelector') ?? ''),
  };
}

export function matchesFilter(filter: ObjectFilter, object: KubeObject): boolean {
  return (
    matchesLabels(filter.labels, object.metadata.labels) && matchesFields(filter.fields, object)
  );
}
