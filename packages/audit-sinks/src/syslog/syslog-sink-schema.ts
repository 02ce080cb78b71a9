import { z } from "zod";
import { envNameSchema, recordFormatSchema, sinkNameSchema, timeoutMsSchema } from "../sink-settings.js";

/** RFC 5424 header fields are PRINTUSASCII (33–126), no spaces. */
const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

/** An SD-ID: 1–32 printable characters except `=`, space, `]` and `"` (RFC 5424 §6.3.2). */
const sdIdSchema = z
  .string()
  .trim()
  .regex(/^[\x21-\x7e]{1,32}$/, "1–32 printable ASCII characters")
  .refine((id) => !/[= \]"]/.test(id), 'may not contain =, ], " or a space')
  .refine((id) => id.includes("@"), "a private SD-ID is name@<enterprise number>, like leasehold@32473");

/**
 * Syslog: RFC 5424 messages over TCP with octet-counting framing (RFC 6587 §3.4.1), and over TLS
 * (RFC 5425, port 6514) when `tls` is given. Each message's structured data carries the event's `seq`.
 */
export const syslogAuditSinkSchema = z
  .object({
    name: sinkNameSchema,
    kind: z.literal("syslog"),
    /** The collector's host name or IP address. */
    host: z
      .string()
      .trim()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:-]+$/, "a host name or IP address"),
    /** 6514 is syslog over TLS (RFC 5425); plain TCP collectors commonly listen on 514 or 601. */
    port: z.int().min(1).max(65_535),
    /**
     * TLS, verified against the system's CAs or the PEM bundle in `caEnv`; `certEnv`/`keyEnv` hold a
     * client certificate and key in PEM for collectors that want one. Omitted: plain TCP (only
     * sensible on a trusted network or to a local relay).
     */
    tls: z
      .object({
        caEnv: envNameSchema.optional(),
        certEnv: envNameSchema.optional(),
        keyEnv: envNameSchema.optional(),
        /** The name the collector's certificate must carry, when it differs from `host`. */
        serverName: z.string().trim().min(1).max(253).optional(),
      })
      .strict()
      .refine(
        (t) => (t.certEnv === undefined) === (t.keyEnv === undefined),
        "set both certEnv and keyEnv, or neither",
      )
      .optional(),
    /** Syslog facility 0–23; 13 is "log audit". */
    facility: z.int().min(0).max(23).default(13),
    /** Syslog severity 0–7; 6 is "informational". */
    severity: z.int().min(0).max(7).default(6),
    appName: printable(48).default("leasehold"),
    /** The HOSTNAME field; omitted: this machine's name. */
    hostname: printable(255).optional(),
    /**
     * The structured-data element that carries `seq`, `action` and the subject. 32473 is the
     * enterprise number reserved for documentation (RFC 5612): use your organisation's if it has one.
     */
    sdId: sdIdSchema.default("leasehold@32473"),
    format: recordFormatSchema,
    timeoutMs: timeoutMsSchema,
  })
  .strict();
export type SyslogAuditSinkSettings = z.output<typeof syslogAuditSinkSchema>;
