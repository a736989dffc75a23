import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';

/** The route options the document is built from; `schema` is what each route declares. */
interface DocumentedRoute {
  method: string;
  url: string;
  schema: RouteSchema;
}

/**
 * What a route declares about itself besides its validation schemas. `security: []` marks a route
 * open to anyone (liveness, metrics, this document, the page's static files); every other route
 * needs a bearer token.
 */
export interface RouteDocumentation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: { bearer: string[] }[];
  /** Roles allowed to call the route, for the document. */
  'x-roles'?: string[];
  /** How the route answers with 200 when it is not JSON. */
  'x-produces'?: string;
  hide?: boolean;
}

declare module 'fastify' {
  // Routes carry their documentation in `schema`, beside what Fastify validates.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifySchema extends RouteDocumentation {}
}

export type RouteSchema = FastifySchema;

const ERROR = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

/**
 * Records every route as it is registered, so `/openapi.json` describes exactly the routes the
 * server answers. Call before any route is added.
 */
export function trackRoutes(app: FastifyInstance): DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as RouteSchema;
    if (schema.hide) return;
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method: method.toLowerCase(), url: route.url, schema });
    }
  });
  return routes;
}

/** Serves the OpenAPI 3.1 document of every tracked route at `/openapi.json`. */
export function registerOpenApi(
  app: FastifyInstance,
  routes: DocumentedRoute[],
  info: { version: string },
): void {
  app.get(
    '/openapi.json',
    { schema: { summary: 'This document', tags: ['meta'], security: [] } as RouteSchema },
    async () => openApiDocument(routes, info),
  );
}

export function openApiDocument(routes: DocumentedRoute[], info: { version: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'changeproof control plane', version: info.version },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A local token (local mode) or an OIDC token (connected mode)',
        },
      },
      schemas: { Error: ERROR },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

function operation(route: DocumentedRoute): object {
  const s = route.schema;
  const parameters: object[] = [
    ...parametersOf(s.params, 'path'),
    ...parametersOf(s.querystring, 'query'),
  ];
  const open = Array.isArray(s.security) && s.security.length === 0;
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    operationId: `${route.method}${route.url.replace(/[^A-Za-z0-9]+(.)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
    summary: s.summary ?? `${route.method.toUpperCase()} ${route.url}`,
    ...(s.description ? { description: s.description } : {}),
    tags: s.tags ?? ['other'],
    ...(open ? { security: [] } : {}),
    ...(s['x-roles'] ? { 'x-roles': s['x-roles'] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(s.body ? { requestBody: { content: { 'application/json': { schema: s.body } } } } : {}),
    responses: {
      200: {
        description: 'OK',
        content: { [s['x-produces'] ?? 'application/json']: { schema: {} } },
      },
      400: errorResponse('Malformed request'),
      ...(open ? {} : { 401: errorResponse('No token or an invalid one') }),
      ...(open ? {} : { 403: errorResponse('The caller lacks the role') }),
      404: errorResponse('Not found'),
    },
  };
}

function parametersOf(schema: unknown, where: 'path' | 'query'): object[] {
  const properties = (schema as { properties?: Record<string, object> } | undefined)?.properties;
  const required = new Set((schema as { required?: string[] } | undefined)?.required ?? []);
  return Object.entries(properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }));
}
