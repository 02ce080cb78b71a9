import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    // The pinned AWS SDK warns on Node 20 (shared/TOOLCHAIN.md); the warning says nothing about the stand-in.
    test: { env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
  }),
);
