import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";

/** One RFC 5424 message as a collector sees it. */
export type ReceivedMessage = {
  readonly pri: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly sd: Record<string, string>;
  readonly sdId: string;
  readonly msg: Record<string, unknown>;
  readonly bom: boolean;
};

const HEADER =
  /^<(0|[1-9]\d{0,2})>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[(\S+)((?: [^=\s]+="(?:[^"\\\]]|\\.)*")*)\] /s;

function parseMessage(raw: Buffer): ReceivedMessage {
  const text = raw.toString("utf8");
  const match = HEADER.exec(text);
  if (!match) throw new Error(`not an RFC 5424 message with structured data: ${text.slice(0, 120)}`);
  const [whole, pri, timestamp, hostname, appName, procId, msgId, sdId, params] =
    match as unknown as string[];
  const sd: Record<string, string> = {};
  for (const p of (params ?? "").matchAll(/ ([^=\s]+)="((?:[^"\\\]]|\\.)*)"/g)) {
    sd[p[1] as string] = (p[2] as string).replace(/\\(["\\\]])/g, "$1");
  }
  const rest = raw.subarray(Buffer.byteLength(whole as string, "utf8"));
  const bom = rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf;
  return {
    pri: Number(pri),
    timestamp: timestamp as string,
    hostname: hostname as string,
    appName: appName as string,
    procId: procId as string,
    msgId: msgId as string,
    sdId: sdId as string,
    sd,
    bom,
    msg: JSON.parse(rest.subarray(bom ? 3 : 0).toString("utf8")) as Record<string, unknown>,
  };
}

/**
 * Reads octet-counted frames (RFC 6587 §3.4.1) as the wave2 contract's stand-in must: MSG-LEN, one
 * space, exactly that many octets; several frames per segment and frames split across segments.
 * Anything else closes the connection.
 */
function readFrames(socket: Socket, onMessage: (m: ReceivedMessage) => void) {
  let buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const space = buffer.indexOf(0x20);
      if (space === -1) return;
      const length = buffer.subarray(0, space).toString("ascii");
      if (!/^[1-9]\d{0,7}$/.test(length)) {
        socket.destroy();
        return;
      }
      const end = space + 1 + Number(length);
      if (buffer.length < end) return;
      onMessage(parseMessage(buffer.subarray(space + 1, end)));
      buffer = buffer.subarray(end);
    }
  });
  socket.on("end", () => socket.end());
  socket.on("error", () => undefined);
}

/** A syslog collector on a random local port, over TCP or (given a key and certificate) TLS. */
export async function syslogListener(tls?: { key: string; cert: string }) {
  const messages: ReceivedMessage[] = [];
  const onSocket = (socket: Socket) => readFrames(socket, (m) => messages.push(m));
  const server: Server = tls ? createTlsServer(tls, onSocket) : createTcpServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
