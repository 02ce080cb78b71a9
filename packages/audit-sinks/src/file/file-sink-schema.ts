import { isAbsolute } from "node:path";
import { durationSchema } from "@leasehold/domain";
import { z } from "zod";
import { recordFormatSchema, sinkNameSchema } from "../sink-settings.js";

/** 100 MiB: the current file is rotated once it has reached this size, unless set otherwise. */
export const DEFAULT_FILE_MAX_BYTES = 100 * 1024 * 1024;

/**
 * A JSON-lines file: one event per line, fsync'd before the cursor moves, rotated into
 * `<path>.<UTC timestamp>` by size and/or age. Removing old rotated files is the operator's.
 */
export const fileAuditSinkSchema = z
  .object({
    name: sinkNameSchema,
    kind: z.literal("file"),
    /** The current file, absolute (`/var/log/leasehold/audit.jsonl`); its directory is created if missing. */
    path: z
      .string()
      .trim()
      .min(2)
      .max(1024)
      .refine(isAbsolute, "must be an absolute path, like /var/log/leasehold/audit.jsonl"),
    format: recordFormatSchema,
    rotate: z
      .object({
        /** Rotate once the current file holds at least this many bytes (1 KiB to 100 GiB). */
        maxBytes: z
          .int()
          .min(1024)
          .max(100 * 1024 ** 3)
          .optional(),
        /** Rotate once the current file is this old (`1d`, `12h`). */
        maxAge: durationSchema.optional(),
      })
      .strict()
      .default({ maxBytes: DEFAULT_FILE_MAX_BYTES }),
  })
  .strict();
export type FileAuditSinkSettings = z.output<typeof fileAuditSinkSchema>;
