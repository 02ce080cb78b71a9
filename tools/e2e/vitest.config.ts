import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// One browser and one local mode for the whole file; each step drives real processes on two busy cores.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 90_000, hookTimeout: 240_000 } }));
