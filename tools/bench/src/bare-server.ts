import Fastify from "fastify";

/**
 * P5's baseline server: Fastify 5 with one route answering a small JSON body, and nothing else (no
 * logger, no authentication, no database). Run as a child process, like the API, so both pay the same
 * process costs; prints its address as a JSON line once listening, and closes on SIGTERM.
 */
const app = Fastify();
app.get("/", async () => ({ id: "4c1f0b52-9d1e-4a4b-8b0e-2f6a0e1d7c3a", state: "active" }));

const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ msg: "bare server listening", address })}\n`);
process.once("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
