import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ChangeproofError, messageOf } from '../errors.ts';
import { configSchema, type ChangeproofConfig } from './schema.ts';

export class ConfigError extends ChangeproofError<'CONFIG_UNREADABLE' | 'CONFIG_INVALID'> {}

const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads and validates changeproof.yaml; every problem names the file, the path and a hint. */
export function loadConfig(file: string): ChangeproofConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_UNREADABLE', `${file}: cannot read (${messageOf(error)})`, {
      category: 'usage',
    });
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = 'changeproof.yaml'): ChangeproofConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw invalid(file, 'file is larger than 1 MiB; is this the right file?');
  }
  let document: unknown;
  try {
    // Aliases are capped so that a "billion laughs" document cannot exhaust memory.
    document = parse(text, { maxAliasCount: 100, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    throw invalid(file, `not valid YAML: ${firstLine(messageOf(error))}`);
  }
  const result = configSchema.safeParse(document);
  if (!result.success) throw invalid(file, describeIssues(result.error.issues));
  return result.data;
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  const first = issues[0]!;
  const where = first.path.length ? first.path.join('.') : '(top level)';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${where}: ${hint(first)}${more}`;
}

function hint(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key ${issue.keys.map((k) => `'${k}'`).join(', ')}; check the spelling against the README`;
  }
  return issue.message;
}

function invalid(file: string, detail: string): ConfigError {
  return new ConfigError('CONFIG_INVALID', `${file}: ${detail}`, { category: 'usage' });
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
