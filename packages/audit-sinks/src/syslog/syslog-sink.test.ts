import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpstreamError } from "@leasehold/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../test-events.js";
import { syslogMessage } from "./syslog-format.js";
import { createSyslogSink } from "./syslog-sink.js";
import { syslogAuditSinkSchema } from "./syslog-sink-schema.js";
import { syslogListener } from "./test-syslog-listener.js";

const sinkFor = (port: number, extra: Record<string, unknown> = {}, env = {}) =>
  createSyslogSink(
    syslogAuditSinkSchema.parse({
      name: "syslog",
      kind: "syslog",
      host: "127.0.0.1",
      port,
      hostname: "lh-worker-1",
      ...extra,
    }),
    { env },
  );

/** A self-signed certificate for 127.0.0.1, made for this run. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "lh-syslog-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: "ignore" },
    );
    return {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the syslog audit sink over TCP", () => {
  let collector: Awaited<ReturnType<typeof syslogListener>>;
  beforeAll(async () => {
    collector = await syslogListener();
  });
  afterAll(() => collector.close());

  it("sends each event as an octet-counted RFC 5424 message with seq in its structured data", async () => {
    collector.messages.length = 0;
    const events = auditEvents(41, 3);
    await sinkFor(collector.port).deliver(events);
    expect(collector.messages.map((m) => m.sd.seq)).toEqual(["41", "42", "43"]);
    const first = collector.messages[0];
    expect(first).toMatchObject({
      pri: 13 * 8 + 6,
      timestamp: events[0]?.at.toISOString(),
      hostname: "lh-worker-1",
      appName: "leasehold",
      procId: String(process.pid),
      msgId: "grant.issued",
      sdId: "leasehold@32473",
      bom: true,
      sd: { seq: "41", action: "grant.issued", subjectType: "grant", subjectId: events[0]?.subjectId },
      msg: { seq: 41, data: { note: 'event 41 with "quotes" and ] brackets' } },
    });
  });

  it("fails the delivery when no collector listens", async () => {
    const closed = await syslogListener();
    await closed.close();
    await expect(sinkFor(closed.port).deliver(auditEvents(1, 1))).rejects.toBeInstanceOf(UpstreamError);
  });
});

describe("the syslog message", () => {
  it('escapes " \\ and ] in structured-data values, and writes PRI without leading zeros', () => {
    const [event] = auditEvents(1, 1);
    const text = syslogMessage(
      { ...(event as NonNullable<typeof event>), subjectId: 'a"b\\c]d' },
      { facility: 0, severity: 0, hostname: "h", appName: "a", procId: "1", sdId: "x@32473", format: "json" },
    ).toString("utf8");
    expect(text.startsWith("<0>1 ")).toBe(true);
    expect(text).toContain('subjectId="a\\"b\\\\c\\]d"]');
  });
});

describe("the syslog audit sink over TLS", () => {
  let collector: Awaited<ReturnType<typeof syslogListener>>;
  let tls: { key: string; cert: string };
  beforeAll(async () => {
    tls = selfSigned();
    collector = await syslogListener(tls);
  });
  afterAll(() => collector.close());

  it("delivers to a collector whose certificate the CA bundle in caEnv trusts", async () => {
    collector.messages.length = 0;
    await sinkFor(collector.port, { tls: { caEnv: "SYSLOG_CA" } }, { SYSLOG_CA: tls.cert }).deliver(
      auditEvents(1, 2),
    );
    expect(collector.messages.map((m) => m.sd.seq)).toEqual(["1", "2"]);
  });

  it("refuses a collector whose certificate it cannot verify, sending nothing", async () => {
    collector.messages.length = 0;
    const error = await sinkFor(collector.port, { tls: {} })
      .deliver(auditEvents(1, 1))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(collector.messages).toEqual([]);
  });
});
