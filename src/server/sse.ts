import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Ledger } from '../ledger/ledger.ts';

/** What a page is told about each new ledger entry: enough to know which views to refresh. */
export interface LedgerNotice {
  seq: number;
  kind: string;
  subject: string;
}

type Listener = (notices: LedgerNotice[]) => void;

/**
 * Notices new ledger entries by polling the head every `intervalMs` while anyone listens, and
 * hands each listener the entries after the last head it saw. The ledger is written by other
 * processes too (a pipeline run, the CLI), so an in-process hook would miss their entries; a head
 * query is one indexed row.
 */
export class LedgerWatcher {
  private readonly listeners = new Set<Listener>();
  private readonly streams = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastSeq: number | undefined;
  private polling = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly intervalMs = 250,
  ) {}

  /** Starts listening for entries after `fromSeq`; returns the function that stops. */
  subscribe(listener: Listener, fromSeq: number): () => void {
    this.listeners.add(listener);
    this.lastSeq = Math.min(this.lastSeq ?? fromSeq, fromSeq);
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Ends every open stream and stops polling, so that the server can close. */
  close(): void {
    for (const end of [...this.streams]) end();
    this.stop();
  }

  /** Keeps `end` to be called when the watcher closes. */
  track(end: () => void): () => void {
    this.streams.add(end);
    return () => this.streams.delete(end);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.lastSeq = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const head = (await this.ledger.head())?.seq ?? 0;
      if (this.lastSeq === undefined || head <= this.lastSeq) return;
      const entries = await this.ledger.list({ afterSeq: this.lastSeq, limit: 1000 });
      this.lastSeq = entries.at(-1)?.seq ?? head;
      const notices = entries.map(({ seq, kind, subject }) => ({ seq, kind, subject }));
      for (const listener of this.listeners) listener(notices);
    } catch {
      // A failed poll is retried on the next tick; the page also refetches on reconnect.
    } finally {
      this.polling = false;
    }
  }
}

/**
 * Turns a request into a server-sent event stream of ledger notices, with a comment line every
 * 15 s so that proxies keep the connection open.
 */
export function streamLedgerEvents(
  watcher: LedgerWatcher,
  request: FastifyRequest,
  reply: FastifyReply,
  headSeq: number,
): void {
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  out.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ headSeq })}\n\n`);
  const unsubscribe = watcher.subscribe((notices) => {
    out.write(`id: ${notices.at(-1)!.seq}\nevent: ledger\ndata: ${JSON.stringify(notices)}\n\n`);
  }, headSeq);
  const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), 15_000);
  const untrack = watcher.track(() => out.end());
  request.raw.once('close', () => {
    clearInterval(keepAlive);
    untrack();
    unsubscribe();
  });
}
