import { cloneJson, isJsonObject, type Json } from '../objects.ts';

/**
 * Applies a JSON merge patch (RFC 7386): objects merge recursively, `null` removes a member,
 * anything else (including arrays) replaces the target value.
 */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
