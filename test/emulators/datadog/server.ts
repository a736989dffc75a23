import { HttpEmulator, type EmulatedRequest, type EmulatedResponse } from '../http-emulator.ts';

/**
 * A Datadog API emulator: `POST /api/v1/events` (202 with the event) and `POST /api/v2/series`
 * (202), both requiring the DD-API-KEY header; 403 otherwise, as Datadog answers.
 */
export class DatadogEmulator extends HttpEmulator {
  readonly events: Record<string, unknown>[] = [];
  readonly series: Record<string, unknown>[] = [];

  constructor(private readonly apiKey: string) {
    super();
    this.on('POST', '/api/v1/events', (r) => this.keyed(r, () => this.event(r)));
    this.on('POST', '/api/v2/series', (r) => this.keyed(r, () => this.points(r)));
  }

  private keyed(request: EmulatedRequest, handler: () => EmulatedResponse): EmulatedResponse {
    if (request.headers['dd-api-key'] !== this.apiKey)
      return { status: 403, body: { errors: ['Forbidden'] } };
    return handler();
  }

  private event(request: EmulatedRequest): EmulatedResponse {
    const body = request.body as Record<string, unknown>;
    if (typeof body.title !== 'string' || typeof body.text !== 'string')
      return { status: 400, body: { errors: ['Event title and text are required'] } };
    this.events.push(body);
    return { status: 202, body: { status: 'ok', event: { id: this.events.length, ...body } } };
  }

  private points(request: EmulatedRequest): EmulatedResponse {
    const body = request.body as { series?: Record<string, unknown>[] };
    if (!Array.isArray(body.series))
      return { status: 400, body: { errors: ['series is required'] } };
    this.series.push(...body.series);
    return { status: 202, body: { errors: [] } };
  }
}
