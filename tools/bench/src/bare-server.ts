import { GRANT_BY_ID, POSTGRES_POOL_SIZE } from "@leasehold/db";
import Fastify from "fastify";
import pg from "pg";

/**
 * P5's baselines, in one child process run like the API (so both pay the same process costs), with no
 * logger and no authentication:
 * - `GET /`: a small JSON body and nothing else (no database);
 * - `GET /grants/<id>` (when BARE_DATABASE_URL is set): the fair floor of an authenticated lookup, the
 *   same primary-key read of the grant the API does (the same statement, prepared the same way) through
 *   a `pg` pool of the API's size, answered as JSON.
 * Prints its address as a JSON line once listening, and closes on SIGTERM.
 */
const app = Fastify();
app.get("/", async () => ({ id: "4c1f0b52-9d1e-4a4b-8b0e-2f6a0e1d7c3a", state: "active" }));

const databaseUrl = process.env.BARE_DATABASE_URL;
const pool = databaseUrl
  ? new pg.Pool({ connectionString: databaseUrl, max: POSTGRES_POOL_SIZE })
  : undefined;
if (pool) {
  app.get<{ Params: { id: string } }>("/grants/:id", async (request, reply) => {
    const { rows } = await pool.query({ ...GRANT_BY_ID, values: [request.params.id] });
    return rows[0] ?? reply.code(404).send({ error: "not found" });
  });
}

const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ msg: "bare server listening", address })}\n`);
process.once("SIGTERM", () => {
  void app
    .close()
    .then(() => pool?.end())
    .then(() => process.exit(0));
});
