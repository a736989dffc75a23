import { z } from 'zod';

/*
 * The GitHub REST and webhook payloads changeproof reads. Tolerant: GitHub adds fields freely, so
 * only what is used is declared and everything else passes through unread.
 */
const user = z.looseObject({ login: z.string() });

export const pullRequestSchema = z.looseObject({
  number: z.number().int(),
  title: z.string(),
  body: z.string().nullish(),
  state: z.enum(['open', 'closed']),
  merged: z.boolean().nullish(),
  merged_at: z.string().nullish(),
  merge_commit_sha: z.string().nullish(),
  merged_by: user.nullish(),
  created_at: z.string(),
  user,
  head: z.looseObject({ ref: z.string(), sha: z.string() }),
  base: z.looseObject({ ref: z.string(), sha: z.string() }),
});
export type PullRequest = z.infer<typeof pullRequestSchema>;

export const reviewSchema = z.looseObject({
  id: z.number(),
  user: user.nullish(),
  state: z.string(),
  body: z.string().nullish(),
  submitted_at: z.string().nullish(),
  // Null once the reviewed commit is gone (force-push) or the review was dismissed long ago.
  commit_id: z.string().nullish(),
});
export type GithubReview = z.infer<typeof reviewSchema>;

export const statusSchema = z.looseObject({
  state: z.enum(['pending', 'success', 'failure', 'error']),
  context: z.string(),
  description: z.string().nullish(),
  target_url: z.string().nullish(),
  updated_at: z.string(),
});

export const pullFileSchema = z.looseObject({
  filename: z.string(),
  status: z.string(),
  patch: z.string().optional(),
});

export const mergeResultSchema = z.looseObject({ sha: z.string(), merged: z.boolean() });

export const pullRequestEventSchema = z.looseObject({
  action: z.string(),
  number: z.number().int().optional(),
  pull_request: pullRequestSchema,
  sender: user,
});

export const pullRequestReviewEventSchema = z.looseObject({
  action: z.string(),
  review: reviewSchema,
  pull_request: pullRequestSchema,
  sender: user,
});

export const pushEventSchema = z.looseObject({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  pusher: z.looseObject({ name: z.string() }),
  sender: user.optional(),
});

/** Our own input: the review event GitHub accepts. */
export const reviewEvents = {
  approved: 'APPROVE',
  changes_requested: 'REQUEST_CHANGES',
  commented: 'COMMENT',
} as const;
