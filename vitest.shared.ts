import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under this condition, so tests run
// against source without a build step. ("module" is left out on purpose: it would load the AWS
// SDK's bundler-only build, which Node cannot run.)
const conditions = ["@leasehold/source", "node", "development|production"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
