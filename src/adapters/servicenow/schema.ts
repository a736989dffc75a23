import { z } from 'zod';

/*
 * ServiceNow answers fields as plain strings (Table API) or as `{value, display_value}` pairs
 * (Change API, or `sysparm_display_value=all`). Both read the same: `fieldValue` takes the value.
 */
const field = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.looseObject({ value: z.unknown(), display_value: z.unknown().optional() }),
]);

export const recordSchema = z.record(z.string(), field.optional());
export type SnRecord = z.infer<typeof recordSchema>;

export const singleResultSchema = z.looseObject({ result: recordSchema });
export const listResultSchema = z.looseObject({ result: z.array(recordSchema) });

export const oauthTokenSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().optional(),
  refresh_token: z.string().optional(),
});

/** A field's value as a string ('' when absent). */
export function fieldValue(record: SnRecord, name: string): string {
  const raw = record[name];
  if (raw === undefined || raw === null) return '';
  if (typeof raw === 'object')
    return raw.value === undefined || raw.value === null ? '' : String(raw.value);
  return String(raw);
}

/** A reference field's display value (a user's name for `approver`), else its value. */
export function displayValue(record: SnRecord, name: string): string {
  const raw = record[name];
  if (raw && typeof raw === 'object' && raw.display_value) return String(raw.display_value);
  return fieldValue(record, name);
}
