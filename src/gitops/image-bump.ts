import {
  isMap,
  isScalar,
  isSeq,
  parse,
  parseDocument,
  type Pair,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import { ChangeproofError } from '../errors.ts';

export class ImageBumpError extends ChangeproofError<
  'IMAGE_ENTRY_MISSING' | 'KUSTOMIZATION_INVALID' | 'OVERLAY_MISSING'
> {}

/** The new image reference of one service in an overlay. */
export interface ImageBump {
  /** The `name` of the `images:` entry: the image name the base manifests use. */
  name: string;
  newTag: string;
  /** `sha256:<hex>`: the manifest digest the tag must resolve to. */
  digest: string;
  /** Written only when it differs from the entry's current `newName`. */
  newName?: string;
}

/** Where the overlay of a service in an environment lives in the config repo. */
export function overlayPath(service: string, env: string): string {
  return `apps/${service}/overlays/${env}/kustomization.yaml`;
}

interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/**
 * Points the overlay's `images:` entry named `bump.name` at the new tag and digest, changing
 * nothing else: comments, key order, quoting and indentation of every other byte stay as they
 * were, so the resulting diff is the image reference alone. A value that was quoted stays
 * quoted the same way; a missing `digest:` (or `newTag:`) is added as the entry's last key.
 *
 * @example bumpImage(text, { name: 'checkout', newTag: sha, digest }, 'apps/checkout/overlays/dev/kustomization.yaml')
 */
export function bumpImage(text: string, bump: ImageBump, file = 'kustomization.yaml'): string {
  const entry = findImageEntry(text, bump.name, file);
  const edits: TextEdit[] = [];
  const additions: string[][] = [];
  const set = (key: string, value: string) => {
    const pair = entry.items.find((item) => isScalar(item.key) && item.key.value === key);
    if (pair && isScalar(pair.value)) edits.push(replaceScalar(pair.value, value));
    else additions.push([key, value]);
  };

  if (bump.newName !== undefined && scalarOf(entry, 'newName') !== bump.newName) {
    set('newName', bump.newName);
  }
  set('newTag', bump.newTag);
  set('digest', bump.digest);
  if (additions.length > 0) edits.push(appendPairs(text, entry, additions));
  return applyEdits(text, edits);
}

function findImageEntry(text: string, name: string, file: string): YAMLMap {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ImageBumpError(
      'KUSTOMIZATION_INVALID',
      `${file} is not valid YAML: ${document.errors[0]!.message.split('\n')[0]}`,
    );
  }
  const images = isMap(document.contents) ? document.contents.get('images', true) : undefined;
  const entry = isSeq(images)
    ? images.items.find((item): item is YAMLMap => isMap(item) && item.get('name') === name)
    : undefined;
  if (!entry) {
    throw new ImageBumpError(
      'IMAGE_ENTRY_MISSING',
      // Escaped: a name with a line break must not turn the one-line refusal into two.
      `${file} has no images: entry named ${JSON.stringify(name).slice(1, -1)}; add one with name, newName and newTag`,
    );
  }
  return entry;
}

function scalarOf(map: YAMLMap, key: string): unknown {
  const value = map.get(key, true);
  return isScalar(value) ? value.value : undefined;
}

/** Replaces a scalar's source text, keeping its quoting style and any comment after it. */
function replaceScalar(node: Scalar, value: string): TextEdit {
  const [start, end] = node.range ?? [0, 0];
  return { start, end, text: formatScalar(value, node.type) };
}

function formatScalar(value: string, style: Scalar['type']): string {
  if (style === 'QUOTE_DOUBLE') return JSON.stringify(value);
  if (style === 'QUOTE_SINGLE') return `'${value.replaceAll("'", "''")}'`;
  // A plain scalar must still read back as this string (a tag of only digits would not).
  return parse(value) === value && !value.includes(': ') ? value : JSON.stringify(value);
}

/**
 * Adds pairs after the entry's last pair: a new line at the entry's key indentation in block
 * style, `, key: value` in flow style.
 */
function appendPairs(text: string, entry: YAMLMap, pairs: string[][]): TextEdit {
  const last = entry.items[entry.items.length - 1] as Pair<Scalar, Scalar>;
  const lastEnd = last.value?.range?.[1] ?? last.key.range?.[1] ?? 0;
  if (entry.flow) {
    const text = pairs.map(([key, value]) => `, ${key}: ${formatScalar(value!, 'PLAIN')}`).join('');
    return { start: lastEnd, end: lastEnd, text };
  }
  const firstKeyStart = (entry.items[0]!.key as Scalar).range?.[0] ?? 0;
  const indent = ' '.repeat(firstKeyStart - text.lastIndexOf('\n', firstKeyStart - 1) - 1);
  const lines = pairs.map(([key, value]) => `${indent}${key}: ${formatScalar(value!, 'PLAIN')}`);
  const lineEnd = text.indexOf('\n', lastEnd);
  if (lineEnd === -1)
    return { start: text.length, end: text.length, text: `\n${lines.join('\n')}` };
  return { start: lineEnd + 1, end: lineEnd + 1, text: `${lines.join('\n')}\n` };
}

function applyEdits(text: string, edits: TextEdit[]): string {
  let result = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  return result;
}
