import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import type { FastifyInstance } from "fastify";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Bounds on what is read into memory: a built console is a few hundred kilobytes. */
const MAX_FILES = 500;
const MAX_TOTAL_BYTES = 20 * 1024 * 1024;

type Asset = { readonly body: Buffer; readonly contentType: string; readonly cacheControl: string };

/**
 * The built console (apps/console/dist), read once into memory: a request names a key of this map
 * or nothing, so no path from a URL ever reaches the file system (no traversal, no symlink surprise).
 * Hashed files under assets/ never change: cached for a year; anything else must be revalidated.
 */
export function loadConsoleAssets(dir: string): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  let total = 0;
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      if (!entry.isFile()) continue;
      const urlPath = `/${relative(dir, path).split(sep).join("/")}`;
      const body = readFileSync(path);
      total += body.length;
      if (assets.size >= MAX_FILES || total > MAX_TOTAL_BYTES) {
        throw new Error(
          `the console in ${dir} is larger than ${MAX_FILES} files or ${MAX_TOTAL_BYTES} bytes`,
        );
      }
      assets.set(urlPath, {
        body,
        contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
        cacheControl: urlPath.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      });
    }
  };
  if (!existsSync(join(dir, "index.html")) || !statSync(dir).isDirectory()) {
    throw new Error(`${dir} holds no built console (index.html is missing)`);
  }
  walk(dir);
  return assets;
}

/** Paths that are the API's own: never answered with the console's page. */
const API_PREFIXES = ["/trpc/", "/auth/", "/webhooks/"];

/**
 * Serves the console at `/`: its files by exact path, and index.html for any other GET path whose
 * last segment has no dot (the console's client routes, such as /grants/<id>). The console's CSP
 * is set for HTML by the edge (http-edge.ts).
 */
export function registerConsoleAssets(app: FastifyInstance, dir: string): void {
  const assets = loadConsoleAssets(dir);
  const index = assets.get("/index.html");
  if (!index) throw new Error(`${dir} holds no built console (index.html is missing)`);
  app.get("/*", async (request, reply) => {
    const path = request.url.split("?", 1)[0] ?? "/";
    const clientRoute =
      !API_PREFIXES.some((p) => path.startsWith(p)) && !(path.split("/").pop() ?? "").includes(".");
    const asset = assets.get(path) ?? (clientRoute ? index : undefined);
    if (!asset) return reply.code(404).send({ error: "not found" });
    return reply.type(asset.contentType).header("cache-control", asset.cacheControl).send(asset.body);
  });
}
