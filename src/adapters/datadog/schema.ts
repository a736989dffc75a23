import { z } from 'zod';

/** `POST /api/v1/events` body: strict, it is ours. */
export const eventSchema = z.strictObject({
  title: z.string().min(1).max(100),
  text: z.string().max(4000),
  alert_type: z.enum(['info', 'success', 'warning', 'error']),
  tags: z.array(z.string()),
  aggregation_key: z.string().max(100).optional(),
  source_type_name: z.string().optional(),
  date_happened: z.number().int().optional(),
});
export type DatadogEvent = z.infer<typeof eventSchema>;

/** `POST /api/v2/series` body; type 3 is a gauge. */
export const seriesSchema = z.strictObject({
  series: z.array(
    z.strictObject({
      metric: z.string().regex(/^[a-z][a-z0-9_.]*$/),
      type: z.literal(3),
      points: z.array(z.strictObject({ timestamp: z.number().int(), value: z.number() })).min(1),
      tags: z.array(z.string()),
    }),
  ),
});
export type DatadogSeries = z.infer<typeof seriesSchema>;

/** Datadog's answer: tolerant. */
export const acceptedSchema = z.looseObject({ errors: z.array(z.string()).optional() });
