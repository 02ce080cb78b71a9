import { outboundUrlSchema } from "@leasehold/domain";
import { z } from "zod";
import { envNameSchema, sinkNameSchema, timeoutMsSchema } from "../sink-settings.js";

/** Where batches go: an outbound URL (HTTPS, or HTTP to a loopback collector or test receiver). */
const endpointSchema = outboundUrlSchema;

/** Splunk HEC's event metadata (wave2 contract §5); each at most what Splunk's own names allow. */
const hecName = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[\w.:/-]+$/, "letters, digits and . : / - _");

/**
 * An HTTP endpoint receiving batches. `json`/`ocsf`: a JSON body `{"events": [...]}` signed with
 * `X-Leasehold-Signature: sha256=<hex HMAC-SHA256 of the raw body>` under the key in `hmacKeyEnv`.
 * `splunk-hec`: Splunk HTTP Event Collector events, `Authorization: Splunk <token in tokenEnv>`.
 */
export const webhookAuditSinkSchema = z
  .object({
    name: sinkNameSchema,
    kind: z.literal("webhook"),
    /** For Splunk, the full event endpoint: `https://splunk.example.com:8088/services/collector/event`. */
    url: endpointSchema,
    format: z.enum(["json", "ocsf", "splunk-hec"]).default("json"),
    /** The variable holding the HMAC key that signs each body; required for json and ocsf. */
    hmacKeyEnv: envNameSchema.optional(),
    /** The variable holding the HEC token (a GUID); required for splunk-hec. */
    tokenEnv: envNameSchema.optional(),
    /** Events per POST (a delivery of more is sent as several POSTs, in order). */
    batchSize: z.int().min(1).max(500).default(100),
    /** Tries per POST within one delivery, with exponential backoff and jitter between them. */
    attempts: z.int().min(1).max(10).default(4),
    /** The first backoff; each next one doubles, capped at 30 s. */
    backoffMs: z.int().min(10).max(30_000).default(500),
    timeoutMs: timeoutMsSchema,
    /** Splunk HEC metadata; `sourcetype` defaults to `leasehold:audit`. */
    splunk: z
      .object({
        index: hecName.optional(),
        source: hecName.optional(),
        sourcetype: hecName.default("leasehold:audit"),
        host: hecName.optional(),
        /** `X-Splunk-Request-Channel`, for a token with indexer acknowledgement. */
        channel: z.uuid().optional(),
      })
      .strict()
      .default({ sourcetype: "leasehold:audit" }),
  })
  .strict()
  .superRefine((sink, ctx) => {
    if (sink.format === "splunk-hec" && sink.tokenEnv === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["tokenEnv"],
        message: "name the variable holding the HEC token",
      });
    }
    if (sink.format !== "splunk-hec" && sink.hmacKeyEnv === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["hmacKeyEnv"],
        message: "name the variable holding the key that signs each body (at least 32 characters)",
      });
    }
  });
export type WebhookAuditSinkSettings = z.output<typeof webhookAuditSinkSchema>;
