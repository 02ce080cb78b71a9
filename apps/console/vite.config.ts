import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * The console is served by the API from `dist/` (one port, one origin). Everything is bundled: no
 * third-party host is contacted, and no inline script is emitted (the API's Content-Security-Policy
 * allows scripts from its own origin only).
 */
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    // The module-preload polyfill is an inline script; every browser the console supports has it natively.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
