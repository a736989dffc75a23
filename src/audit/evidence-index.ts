import type { AuditedKind, AuditedPayload } from './audited-fields.ts';

export { AUDITED_KINDS } from './audited-fields.ts';

/** An entry as the audit holds it: its place, time and author, and the payload fields it reads. */
export interface AuditedEntry {
  seq: number;
  time: string;
  kind: AuditedKind;
  actor: string;
  payload: Record<string, unknown>;
}

/** An entry whose payload is typed by its kind. */
export type Evidence<K extends AuditedKind> = Omit<AuditedEntry, 'kind' | 'payload'> & {
  kind: K;
  payload: AuditedPayload<K>;
};

/**
 * How evidence links together: `run`, `proposal`, `change`, `app`, `incident`, `deployment` and
 * `id` are payload fields holding the linked id; `commit` is any of a payload's commit fields (a
 * deployment names its config commit, a merge its head and merge commits) and `digest` the
 * digest of its image reference.
 */
export type LinkField =
  'run' | 'proposal' | 'change' | 'app' | 'incident' | 'deployment' | 'id' | 'commit' | 'digest';

const COMMIT_FIELDS = ['mergeCommit', 'headCommit', 'configCommit'] as const;

/** The entries of one kind grouped by the values of one link. */
interface LinkTable {
  // Most links join one entry: it is held alone, and only a value shared by several holds a list.
  inLedgerOrder: Map<string, AuditedEntry | AuditedEntry[]>;
  inTimeOrder: Map<string, AuditedEntry[]>;
}

/**
 * The evidence grouped by kind, and by the links producers write into payloads, so that a
 * deployment can be joined to its change, proposal, delivery run and image without scanning the
 * ledger again. A kind's table for a link is built the first time the kind is looked up by that
 * link, so only the joins the audit makes are paid for; lookups go through nested maps keyed by
 * the strings at hand, never by a key assembled per lookup.
 */
export class EvidenceIndex {
  private readonly byKind = new Map<string, AuditedEntry[]>();
  private readonly tables = new Map<string, Map<LinkField, LinkTable>>();

  /** `entries` in ledger order, as the loader reads them. */
  constructor(private readonly entries: AuditedEntry[]) {
    for (const entry of entries) push(this.byKind, entry.kind, entry);
  }

  /** The entry with sequence number `seq`, by binary search over the ledger order. */
  entry(seq: number): AuditedEntry | undefined {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.entries[middle]!.seq < seq) low = middle + 1;
      else high = middle;
    }
    const found = this.entries[low];
    return found?.seq === seq ? found : undefined;
  }

  /** All entries of `kind`, in ledger order. */
  all<K extends AuditedKind>(kind: K): Evidence<K>[] {
    return (this.byKind.get(kind) ?? []) as unknown as Evidence<K>[];
  }

  /** Entries of `kind` whose payload links to `value` by `field`, in ledger order. */
  linked<K extends AuditedKind>(kind: K, field: LinkField, value: string): Evidence<K>[] {
    const found = this.table(kind, field).inLedgerOrder.get(value);
    const list = found === undefined ? [] : Array.isArray(found) ? found : [found];
    return list as unknown as Evidence<K>[];
  }

  /**
   * Entries of `kind` linked to `value` recorded in `[from, until)` (ISO times), found by binary
   * search over the list ordered by time.
   */
  linkedBetween<K extends AuditedKind>(
    kind: K,
    field: LinkField,
    value: string,
    from: string,
    until?: string,
  ): Evidence<K>[] {
    const list = this.inTimeOrder(kind, field, value);
    const start = lowerBound(list, from);
    const end = until === undefined ? list.length : lowerBound(list, until);
    return list.slice(start, end) as unknown as Evidence<K>[];
  }

  first<K extends AuditedKind>(kind: K, field: LinkField, value: string): Evidence<K> | undefined {
    const found = this.table(kind, field).inLedgerOrder.get(value);
    return (Array.isArray(found) ? found[0] : found) as Evidence<K> | undefined;
  }

  last<K extends AuditedKind>(kind: K, field: LinkField, value: string): Evidence<K> | undefined {
    const found = this.table(kind, field).inLedgerOrder.get(value);
    return (Array.isArray(found) ? found[found.length - 1] : found) as Evidence<K> | undefined;
  }

  private table(kind: AuditedKind, field: LinkField): LinkTable {
    let ofKind = this.tables.get(kind);
    if (!ofKind) this.tables.set(kind, (ofKind = new Map()));
    let table = ofKind.get(field);
    if (table) return table;
    const valuesOf = linkValues(field);
    table = { inLedgerOrder: new Map(), inTimeOrder: new Map() };
    for (const entry of this.byKind.get(kind) ?? []) {
      for (const value of valuesOf(entry.payload)) add(table.inLedgerOrder, value, entry);
    }
    ofKind.set(field, table);
    return table;
  }

  private inTimeOrder(kind: AuditedKind, field: LinkField, value: string): AuditedEntry[] {
    const table = this.table(kind, field);
    let sorted = table.inTimeOrder.get(value);
    if (!sorted) {
      // Ledger order is time order for one writer; sort anyway, stably, for clocks that stepped.
      sorted = [...this.linked(kind, field, value)].sort((a, b) =>
        a.time < b.time ? -1 : a.time > b.time ? 1 : 0,
      );
      table.inTimeOrder.set(value, sorted);
    }
    return sorted;
  }
}

/** How to read the values of one link from a payload. */
function linkValues(field: LinkField): (payload: Record<string, unknown>) => string[] {
  if (field === 'commit') {
    return (payload) =>
      COMMIT_FIELDS.map((f) => payload[f]).filter((v): v is string => typeof v === 'string');
  }
  if (field === 'digest') {
    return (payload) => {
      const image = payload.image;
      return typeof image === 'string' && image.includes('@') ? [image.split('@')[1]!] : [];
    };
  }
  return (payload) => {
    const value = payload[field];
    return typeof value === 'string' ? [value] : [];
  };
}

function lowerBound(list: AuditedEntry[], time: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]!.time < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

function push<K>(map: Map<K, AuditedEntry[]>, key: K, entry: AuditedEntry): void {
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}

function add(map: Map<string, AuditedEntry | AuditedEntry[]>, key: string, entry: AuditedEntry) {
  const found = map.get(key);
  if (found === undefined) map.set(key, entry);
  else if (Array.isArray(found)) found.push(entry);
  else map.set(key, [found, entry]);
}
