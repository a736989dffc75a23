import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import AjvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { sharedPath } from './paths.ts';

// Both packages are CommonJS with a `default` export; under NodeNext the class sits on `.default`.
const AjvDraft04 = AjvDraft04Module.default;
const addFormats = addFormatsModule.default;

function readSchema(...segments: string[]): Record<string, unknown> {
  return JSON.parse(readFileSync(sharedPath('schemas', ...segments), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** Validator for the official CycloneDX 1.6 JSON schema (draft-07, with its SPDX and JSF refs). */
export function cycloneDxValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // ajv-formats has no IRI formats; an IRI reference is any string without whitespace here.
  ajv.addFormat('iri-reference', (value: string) => !/\s/.test(value));
  ajv.addFormat('idn-email', (value: string) => /^[^\s@]+@[^\s@]+$/.test(value));
  ajv.addSchema(readSchema('cyclonedx', 'spdx.schema.json'), 'spdx.schema.json');
  ajv.addSchema(readSchema('cyclonedx', 'jsf-0.82.schema.json'), 'jsf-0.82.schema.json');
  return ajv.compile(readSchema('cyclonedx', 'bom-1.6.schema.json'));
}

/** Validator for the OASIS SARIF 2.1.0 schema, which is JSON Schema draft-04. */
export function sarifValidator() {
  const ajv = new AjvDraft04({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(readSchema('sarif', 'sarif-schema-2.1.0.json'));
}
