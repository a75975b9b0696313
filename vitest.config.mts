import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // e2e and contract suites mount real filesystems; running their files one at a time keeps
    // loop devices and mounts from contending on a two-core machine.
    fileParallelism: false,
    // Spies go back to the real function before every test, also when a test failed before it could
    // restore them itself, so a failure does not leak its spies into the next test.
    restoreMocks: true,
    env: {
      CDK_VALIDATION: 'false',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
  },
});
