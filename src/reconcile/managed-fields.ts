/**
 * Reading `metadata.managedFields`: which manager owns which field of a live object. fieldsV1
 * is a trie of `f:<field>`, `k:<json of list keys>`, `v:<json value>` and `i:<index>` entries;
 * here it becomes JSON pointers into the live object, so a drifted path can name its writer and
 * `ignoreDifferences.managedFieldsManagers` can skip another controller's fields.
 */
interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

/** JSON pointers of every field (leaf or `.` node) each manager owns, by manager. */
export function fieldOwners(live: Record<string, unknown>): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  const metadata = live.metadata as { managedFields?: ManagedFieldsEntry[] } | undefined;
  for (const entry of metadata?.managedFields ?? []) {
    if (!entry.manager || !entry.fieldsV1) continue;
    const paths = owners.get(entry.manager) ?? [];
    collect(entry.fieldsV1, live, '', paths);
    owners.set(entry.manager, paths);
  }
  return owners;
}

/** The manager that owns `pointer` (or the closest field above it), other than `except`. */
export function ownerOf(
  owners: Map<string, string[]>,
  pointer: string,
  except: string,
): string | undefined {
  let best: { manager: string; length: number } | undefined;
  for (const [manager, paths] of owners) {
    if (manager === except) continue;
    for (const path of paths) {
      if (covers(path, pointer) && (!best || path.length > best.length))
        best = { manager, length: path.length };
    }
  }
  return best?.manager;
}

/** Whether `owned` is `pointer` or one of the fields above it. */
export function covers(owned: string, pointer: string): boolean {
  return pointer === owned || pointer.startsWith(`${owned}/`);
}

function collect(node: Record<string, unknown>, value: unknown, at: string, out: string[]): void {
  const children = Object.entries(node).filter(([key]) => key !== '.');
  if (children.length === 0 || '.' in node) out.push(at);
  for (const [key, child] of children) {
    const step = stepOf(key, value);
    if (step === undefined) continue;
    const next = `${at}/${escape(step.segment)}`;
    if (child && typeof child === 'object' && Object.keys(child).length > 0)
      collect(child as Record<string, unknown>, step.value, next, out);
    else out.push(next);
  }
}

function stepOf(key: string, value: unknown): { segment: string; value: unknown } | undefined {
  const kind = key.slice(0, 2);
  const rest = key.slice(2);
  if (kind === 'f:') {
    const record = (value ?? {}) as Record<string, unknown>;
    return { segment: rest, value: record[rest] };
  }
  if (!Array.isArray(value)) return undefined;
  if (kind === 'i:') return { segment: rest, value: value[Number(rest)] };
  const wanted = JSON.parse(rest) as unknown;
  const index = value.findIndex((element) =>
    kind === 'k:' ? matchesKeys(element, wanted as Record<string, unknown>) : same(element, wanted),
  );
  return index < 0 ? undefined : { segment: String(index), value: value[index] };
}

function matchesKeys(element: unknown, keys: Record<string, unknown>): boolean {
  if (!element || typeof element !== 'object') return false;
  return Object.entries(keys).every(([k, v]) => same((element as Record<string, unknown>)[k], v));
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 6901 escaping of one pointer segment. */
export function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
