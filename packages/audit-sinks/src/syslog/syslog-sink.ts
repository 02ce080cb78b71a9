import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { hostname as machineName } from "node:os";
import { connect as tlsConnect } from "node:tls";
import { type AuditEvent, type AuditSink, UpstreamError } from "@leasehold/domain";
import { type SinkEnvironment, secretFrom } from "../sink-settings.js";
import { octetCounted, syslogMessage } from "./syslog-format.js";
import type { SyslogAuditSinkSettings } from "./syslog-sink-schema.js";

type TlsMaterial = { ca?: string; cert?: string; key?: string; servername?: string };

function tlsMaterial(settings: SyslogAuditSinkSettings, env: SinkEnvironment): TlsMaterial | undefined {
  const { tls } = settings;
  if (!tls) return undefined;
  const from = (name: string | undefined, field: string) =>
    name === undefined ? undefined : secretFrom(env, name, `auditSinks.${settings.name}.tls.${field}`);
  const ca = from(tls.caEnv, "caEnv");
  const cert = from(tls.certEnv, "certEnv");
  const key = from(tls.keyEnv, "keyEnv");
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    // SNI carries names only (RFC 6066); an IP address is still checked against the certificate.
    ...(tls.serverName || !isIP(settings.host) ? { servername: tls.serverName ?? settings.host } : {}),
  };
}

/**
 * The syslog sink: one connection per delivery (TLS when configured, the collector's certificate
 * always verified), every event one octet-counted RFC 5424 frame, then a clean close. The delivery
 * resolves once the collector has closed its side after reading everything, so a collector that
 * drops the connection midway fails it and the events are sent again: at least once, with `seq` in
 * each message's structured data for the collector to drop repeats.
 */
export function createSyslogSink(
  settings: SyslogAuditSinkSettings,
  deps: { env: SinkEnvironment },
): AuditSink {
  const tls = tlsMaterial(settings, deps.env);
  const fields = {
    facility: settings.facility,
    severity: settings.severity,
    hostname: settings.hostname ?? machineName(),
    appName: settings.appName,
    procId: String(process.pid),
    sdId: settings.sdId,
    format: settings.format,
  };
  const where = `${settings.host}:${settings.port}`;

  const send = (payload: Buffer) =>
    new Promise<void>((resolve, reject) => {
      let failed: Error | undefined;
      const socket: Socket = tls
        ? tlsConnect({ host: settings.host, port: settings.port, ...tls }, () => socket.end(payload))
        : tcpConnect({ host: settings.host, port: settings.port }, () => socket.end(payload));
      socket.setTimeout(settings.timeoutMs, () => {
        failed = new Error(`did not finish within ${settings.timeoutMs} ms`);
        socket.destroy();
      });
      socket.on("error", (error) => {
        failed ??= error;
      });
      // Anything the collector says is ignored; reading it lets its side of the close arrive.
      socket.on("data", () => undefined);
      socket.on("close", () => (failed ? reject(failed) : resolve()));
    });

  return {
    name: settings.name,
    async deliver(events: readonly AuditEvent[]) {
      if (events.length === 0) return;
      const payload = Buffer.concat(events.map((event) => octetCounted(syslogMessage(event, fields))));
      try {
        await send(payload);
      } catch (error) {
        // A socket error names the address and the system's code, never the TLS material.
        throw new UpstreamError(
          `syslog audit sink "${settings.name}": ${where}: ${(error as Error).message}`,
          {
            retryable: true,
            cause: error,
          },
        );
      }
    },
  };
}
