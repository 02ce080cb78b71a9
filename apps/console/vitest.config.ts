import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// Only the browser-free modules are tested here (node environment); the pages are driven end to end.
export default mergeConfig(shared, defineConfig({ test: { include: ["src/**/*.test.ts"] } }));
