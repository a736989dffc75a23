import { z } from 'zod';

/** A CDEvent as changeproof emits it (spec 0.4): strict, it is ours. */
export const cdeventSchema = z.strictObject({
  context: z.strictObject({
    version: z.string(),
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.string().regex(/^dev\.cdevents\.[a-z]+\.[a-z]+\.\d+\.\d+\.\d+$/),
    timestamp: z.string(),
  }),
  subject: z.strictObject({
    id: z.string().min(1),
    source: z.string(),
    content: z.record(z.string(), z.unknown()),
  }),
});
export type CdEvent = z.infer<typeof cdeventSchema>;
