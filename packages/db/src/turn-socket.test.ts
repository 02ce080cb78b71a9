import { createServer, Socket } from "node:net";
import { setImmediate as nextTurn } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminDatabaseUrl } from "./test-database.js";
import { TurnSocket } from "./turn-socket.js";

/** Records the writes a socket hands to the operating system (the Writable implementer's two hooks). */
function recordWrites(socket: Socket): number[] {
  const writes: number[] = [];
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._write = (chunk, encoding, callback) => {
    writes.push(1);
    write(chunk, encoding, callback);
  };
  socket._writev = (chunks, callback) => {
    writes.push(chunks.length);
    writev?.(chunks, callback);
  };
  return writes;
}

describe("a turn socket", () => {
  const received: Buffer[] = [];
  const server = createServer((peer) => peer.on("data", (data) => received.push(data)));
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends what one turn wrote in one write, and the next turn's in another, all in order", async () => {
    const socket = new TurnSocket();
    const writes = recordWrites(socket);
    await new Promise<void>((resolve) => socket.connect(port, "127.0.0.1", resolve));
    socket.write("a");
    socket.write(Buffer.from("b"));
    socket.write("c", "utf8", () => {});
    await nextTurn();
    socket.write("d");
    await nextTurn();
    expect(writes).toEqual([3, 1]);
    await new Promise<void>((resolve) => socket.end(resolve));
    await expect.poll(() => Buffer.concat(received).toString()).toBe("abcd");
  });
});

describe("node-postgres over a turn socket", () => {
  /** The writes a pipelined transaction of three statements costs over `Base`. */
  async function writesOfTransaction(Base: new () => Socket): Promise<number[]> {
    let writes: number[] = [];
    const client = new pg.Client({
      connectionString: adminDatabaseUrl(),
      pipeline: true,
      stream: () => {
        const socket = new Base();
        writes = recordWrites(socket);
        return socket;
      },
    });
    await client.connect();
    try {
      await nextTurn();
      const connecting = writes.length;
      const statements = ["BEGIN", "SELECT 1 AS n", "SELECT 2 AS n", "SELECT 3 AS n", "COMMIT"];
      const answers = await Promise.all(statements.map((text) => client.query(text)));
      const results = answers.map((answer) => answer.rows[0]?.n ?? answer.command);
      expect(results).toEqual(["BEGIN", 1, 2, 3, "COMMIT"]);
      return writes.slice(connecting);
    } finally {
      await client.end();
    }
  }

  it("sends the statements given together in one write, where a plain socket takes one per statement", async () => {
    expect(await writesOfTransaction(TurnSocket)).toHaveLength(1);
    expect(await writesOfTransaction(Socket)).toHaveLength(5);
  });
});
