import { z } from "zod";

/*
 * Settings shared by everything Leasehold calls out to that leasehold.yaml names (on-call providers,
 * audit sinks): secrets are never written there, only the names of the variables holding them; and an
 * outbound URL is HTTPS, or HTTP to this machine only (a local stand-in or collector).
 */

/** The name of an environment variable, like `PAGERDUTY_API_TOKEN`. */
export const envVarNameSchema = z
  .string()
  .trim()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "is the name of an environment variable, like PAGERDUTY_API_TOKEN");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * HTTPS, or HTTP to a loopback address. No user, password, query or fragment: a secret there would
 * end up in logs; name the variable holding it instead.
 */
export const outboundUrlSchema = z
  .string()
  .trim()
  .max(2048)
  .url()
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  }, "must be https:// (http:// only to 127.0.0.1, localhost or [::1])")
  .refine((value) => {
    const url = new URL(value);
    return url.username === "" && url.password === "" && url.search === "" && url.hash === "";
  }, "must have no user, password, query or fragment (name the variable holding a secret instead)");
