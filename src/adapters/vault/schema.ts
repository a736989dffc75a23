import { z } from 'zod';

/** Vault's answers, tolerant of the many fields changeproof does not read. */
export const authResponseSchema = z.looseObject({
  auth: z.looseObject({
    client_token: z.string().min(1),
    accessor: z.string().min(1),
    lease_duration: z.number(),
    renewable: z.boolean(),
  }),
});

export const kvReadSchema = z.looseObject({
  lease_id: z.string().optional(),
  data: z.looseObject({ data: z.record(z.string(), z.unknown()) }),
});

export const transitKeySchema = z.looseObject({
  data: z.looseObject({
    type: z.string(),
    latest_version: z.number(),
    keys: z.record(z.string(), z.looseObject({ public_key: z.string().optional() })),
  }),
});

export const transitSignSchema = z.looseObject({
  data: z.looseObject({ signature: z.string().regex(/^vault:v\d+:/) }),
});

export const errorSchema = z.looseObject({ errors: z.array(z.string()) });
