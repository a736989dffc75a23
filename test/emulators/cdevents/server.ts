import { HttpEmulator, type EmulatedRequest } from '../http-emulator.ts';

/** A CloudEvents HTTP receiver that reads binary and structured mode into one shape. */
export class CdeventsReceiver extends HttpEmulator {
  readonly received: {
    mode: 'binary' | 'structured';
    id: string;
    type: string;
    source: string;
    data: Record<string, unknown>;
  }[] = [];

  constructor() {
    super();
    this.on('POST', '/events', (r) => this.receive(r));
  }

  private receive(request: EmulatedRequest) {
    const contentType = String(request.headers['content-type'] ?? '');
    if (contentType.startsWith('application/cloudevents+json')) {
      const envelope = request.body as {
        specversion?: string;
        id: string;
        type: string;
        source: string;
        data: Record<string, unknown>;
      };
      if (envelope.specversion !== '1.0') return { status: 400 };
      this.received.push({
        mode: 'structured',
        id: envelope.id,
        type: envelope.type,
        source: envelope.source,
        data: envelope.data,
      });
    } else {
      if (request.headers['ce-specversion'] !== '1.0') return { status: 400 };
      this.received.push({
        mode: 'binary',
        id: String(request.headers['ce-id']),
        type: String(request.headers['ce-type']),
        source: String(request.headers['ce-source']),
        data: request.body as Record<string, unknown>,
      });
    }
    return { status: 202 };
  }
}
