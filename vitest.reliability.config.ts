import { defineConfig } from 'vitest/config';

/**
 * The reliability and security suite (`npm run test:reliability`): crashes, outside failures,
 * load, hostile input and secrets. Its files end in `.reliability.ts` so the ordinary `npm test`
 * run does not pick them up; the table reporter prints what was tried and what held.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One file at a time: the load and crash rows measure the machine and must not share it.
    fileParallelism: false,
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/reliability/support/table-reporter.ts'],
  },
});
