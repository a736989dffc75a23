import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceRegistry } from '../resources.ts';

export function openApiRoute(
  _registry: ResourceRegistry,
  _request: IncomingMessage,
  _response: ServerResponse,
  _segments: string[],
): boolean {
  return false;
}
