import { z } from "zod";
import { targetSchemaFor } from "./target.js";

/*
 * Two made-up target kinds for the domain's own tests, which must not depend on the providers. Their
 * limits are those of the shortest-lived and the most flexible real kinds (STS sessions: 900 s at
 * least; database credentials: 10 s at least), both ending at twelve hours.
 */

export const sessionTargetSchema = targetSchemaFor({
  kind: "session",
  settingsKey: "session",
  settings: z.object({ role: z.string().min(1) }).strict(),
  durationLimits: { minSeconds: 900, maxSeconds: 43_200 },
});

export const databaseTargetSchema = targetSchemaFor({
  kind: "database",
  settingsKey: "database",
  settings: z.object({ path: z.string().min(1) }).strict(),
  durationLimits: { minSeconds: 10, maxSeconds: 43_200 },
});
