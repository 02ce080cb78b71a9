import {
  DEFAULT_CAPS,
  DEFAULT_RATES,
  durationSchema,
  envVarNameSchema,
  groupNameSchema,
  outboundUrlSchema,
  principalIdSchema,
  principalSetSchema,
} from "@leasehold/domain";
import { onCallSettingsSchema } from "@leasehold/providers/schemas";
import { z } from "zod";
import { auditSinkConfigSchema } from "./audit-sink-config.js";
import { rotationConfigSchema } from "./rotation-config.js";
import { targetConfigSchema } from "./target-config.js";
import { vaultConfigSchema } from "./vault-config.js";

const providerNameSchema = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
    "a provider name is lower-case letters, digits and dashes",
  );

const claimNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w.:/-]+$/, "a claim name is like email or groups");

const clientIdSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "a client id is printable ASCII without spaces");

/**
 * People sign in through this provider: the console by authorization code with PKCE, the CLI by the
 * device authorization grant. Its client secret, when it has one, comes from an environment variable.
 */
export const loginSettingsSchema = z
  .object({
    /** The console's client (authorization code + PKCE); its redirect URI is `<publicUrl>/auth/callback`. */
    clientId: clientIdSchema,
    /** The variable holding the console client's secret; omitted: a public client (PKCE alone). */
    clientSecretEnv: envVarNameSchema.optional(),
    /** The CLI's client (device grant). Its ID tokens are accepted as bearer tokens. Default: clientId. */
    cliClientId: clientIdSchema.optional(),
    /** Scopes asked for at sign-in; must include openid. */
    scopes: z
      .array(
        z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/, "a scope is printable ASCII without spaces"),
      )
      .max(20)
      .refine((scopes) => scopes.includes("openid"), "scopes must include openid")
      .default(["openid", "email", "profile", "groups"]),
    /** How long a console session lasts after sign-in; 5m to 24h. */
    sessionTtl: durationSchema
      .refine((s) => s >= 300 && s <= 86_400, "sessionTtl must be between 5m and 24h")
      .default(8 * 3600),
  })
  .strict();
export type LoginSettings = z.output<typeof loginSettingsSchema>;

/** An OIDC issuer whose tokens Leasehold accepts. */
export const identityProviderSchema = z
  .object({
    name: providerNameSchema,
    /** `human` tokens come from people (ID tokens); `workload` tokens from applications. */
    kind: z.enum(["human", "workload"]).default("human"),
    /** Must equal the token's `iss` exactly. */
    issuer: z.url({
      protocol: /^https?$/,
      error: "issuer must be an http(s) URL, exactly as tokens carry it in iss",
    }),
    /** The token's `aud` must contain this. */
    audience: z.string().min(1).max(255),
    /** Where the signing keys are. Omitted: read from the issuer's /.well-known/openid-configuration. */
    jwksUri: z.url({ protocol: /^https?$/ }).optional(),
    /** The claim that names a person: their email. Workloads are always named `<name>:<sub>`. */
    principalClaim: claimNameSchema.default("email"),
    groupsClaim: claimNameSchema.default("groups"),
    /** Refuse people whose token says `email_verified: false` (or lacks it, when true). */
    requireVerifiedEmail: z.boolean().default(true),
    /** Clock difference tolerated on exp/nbf/iat; at most 5 minutes. */
    clockSkew: durationSchema.refine((s) => s <= 300, "clockSkew must be at most 5m").default(30),
    /**
     * Longest token lifetime (`exp - iat`) accepted, 1m to 31d. Omitted: 24h for people, no limit for
     * workloads (see the API's token verifier).
     */
    maxTokenLifetime: durationSchema
      .refine((s) => s >= 60, "maxTokenLifetime must be at least 1m (write it like 1h or 24h)")
      .optional(),
    /** People sign in to the console and the CLI through this provider (at most one provider). */
    login: loginSettingsSchema.optional(),
  })
  .strict();
export type IdentityProviderConfig = z.output<typeof identityProviderSchema>;

const slackUserIdSchema = z
  .string()
  .regex(
    /^[UW][A-Z0-9]{2,20}$/,
    "a Slack user id is U or W followed by 2–20 upper-case letters and digits, like U0123ABCD (not a name or @handle)",
  );

/**
 * How Slack users become principals. Slack display names are never used: a user is who the explicit
 * mapping says, or (when allowed) the email address Slack has confirmed for them.
 */
export const slackSettingsSchema = z
  .object({
    /** Slack user id → principal id. Wins over the email. */
    users: z.record(slackUserIdSchema, principalIdSchema).default({}),
    /** Use the email Slack confirmed for the user (users.info) when the user is not mapped. */
    useVerifiedEmail: z.boolean().default(true),
    /** Group memberships for people acting through Slack, which has no verified groups of its own. */
    groups: z.record(groupNameSchema, z.array(principalIdSchema).max(1000)).default({}),
    /** Where alerts go that belong to no target, such as revocation debt. */
    alertsChannel: z
      .string()
      .regex(
        /^[CG][A-Z0-9]{2,20}$/,
        "must be a Slack channel id: C or G followed by 2–20 upper-case letters and digits, like C0123ABCD (not a #name)",
      )
      .optional(),
  })
  .strict();
export type SlackSettings = z.output<typeof slackSettingsSchema>;

const capSchema = (max: number) => z.int().min(1).max(max);

/** Per-principal caps and the API's rate limits (per principal, per window, shared through Redis). */
export const limitsSchema = z
  .object({
    pendingRequests: capSchema(1000).default(DEFAULT_CAPS.pendingRequests),
    activeGrants: capSchema(1000).default(DEFAULT_CAPS.activeGrants),
    activeLeases: capSchema(100_000).default(DEFAULT_CAPS.activeLeases),
    rates: z
      .object({
        /** The window each count covers, 1s to 1h. */
        window: durationSchema.refine((s) => s <= 3600, "rates.window must be at most 1h").default(60),
        /** `requests.create` calls per principal per window. */
        requests: capSchema(100_000).default(DEFAULT_RATES.requests),
        /** `leases.create` calls per principal per window. */
        leases: capSchema(100_000).default(DEFAULT_RATES.leases),
        /** `grants.revoke` calls per principal per window. */
        revocations: capSchema(100_000).default(DEFAULT_RATES.revocations),
      })
      .strict()
      .default({ window: 60, ...DEFAULT_RATES }),
  })
  .strict();
export type LimitsConfig = z.output<typeof limitsSchema>;

/**
 * How often the worker signs a checkpoint of the audit trail (audit-checkpoint.ts in the domain):
 * after `everyEvents` events or `everySeconds` seconds since the last one, whichever comes first, and
 * never while the trail stands still.
 */
export const auditCheckpointsSchema = z
  .object({
    everyEvents: z.int().min(1).max(1_000_000).default(1000),
    everySeconds: z.int().min(10).max(86_400).default(300),
  })
  .strict();
export type AuditCheckpointsConfig = z.output<typeof auditCheckpointsSchema>;

/** The whole of leasehold.yaml. */
export const leaseholdConfigSchema = z
  .object({
    identityProviders: z.array(identityProviderSchema).min(1, "name at least one identity provider").max(20),
    /**
     * Where people reach the API and the console, like https://leasehold.example.com: the OIDC redirect
     * URI (`<publicUrl>/auth/callback`) and the links in Slack. Local mode uses its own address.
     */
    publicUrl: outboundUrlSchema.optional(),
    /** May revoke any grant and read and verify the audit trail. */
    admins: principalSetSchema.default({ users: [], groups: [] }),
    /** May read and verify the audit trail and the access reports; may change nothing. */
    auditors: principalSetSchema.default({ users: [], groups: [] }),
    targets: z.array(targetConfigSchema).max(500).default([]),
    slack: slackSettingsSchema.optional(),
    /**
     * Cedar policy files, or directories of .cedar files, relative to leasehold.yaml. They are decided
     * together with the lists above (translated to Cedar), validated against the schema Leasehold
     * generates (`leasehold policy schema`).
     */
    policies: z.array(z.string().min(1).max(1024)).max(100).default([]),
    /** Long-lived secrets rotated on a schedule. */
    rotations: z.array(rotationConfigSchema).max(200).default([]),
    /** Leasehold's own Vault login: its AppRole role and the rotation of its secret id. */
    vault: vaultConfigSchema.optional(),
    /** PagerDuty and Opsgenie, for on-call and incident auto-approval (secrets come from env variables). */
    onCall: onCallSettingsSchema.default({}),
    /** Caps and rate limits; every field has a safe default. */
    limits: limitsSchema.default(() => limitsSchema.parse({})),
    /** Signed checkpoints of the audit trail; both fields have defaults. */
    auditCheckpoints: auditCheckpointsSchema.default(() => auditCheckpointsSchema.parse({})),
    /** Where the worker copies the audit trail, each with a cursor of its own (README, "Audit sinks"). */
    auditSinks: z.array(auditSinkConfigSchema).max(10, "at most 10 audit sinks").default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const duplicates = <T>(items: readonly T[], key: (item: T) => string, path: string, what: string) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        const value = key(item);
        if (seen.has(value)) {
          ctx.addIssue({ code: "custom", path: [path, index], message: `${what} "${value}" appears twice` });
        }
        seen.add(value);
      });
    };
    duplicates(config.identityProviders, (p) => p.name, "identityProviders", "provider name");
    duplicates(
      config.identityProviders,
      (p) => `${p.issuer} ${p.audience}`,
      "identityProviders",
      "issuer and audience",
    );
    config.identityProviders.forEach((provider, index) => {
      if (provider.login === undefined) return;
      if (provider.kind !== "human") {
        ctx.addIssue({
          code: "custom",
          path: ["identityProviders", index, "login"],
          message: "only a human provider signs people in",
        });
      } else if (config.identityProviders.findIndex((p) => p.login !== undefined) !== index) {
        ctx.addIssue({
          code: "custom",
          path: ["identityProviders", index, "login"],
          message: "only one provider may sign people in",
        });
      }
    });
    duplicates(config.targets, (t) => t.id, "targets", "target id");
    duplicates(config.rotations, (r) => r.id, "rotations", "rotation id");
    config.rotations.forEach((rotation, index) => {
      // The id of Leasehold's own Vault secret id rotation (vault.appRole.rotateSecretId).
      if (rotation.id === "vault-approle-secret-id") {
        ctx.addIssue({ code: "custom", path: ["rotations", index, "id"], message: "this id is reserved" });
      }
    });
    duplicates(config.auditSinks, (s) => s.name, "auditSinks", "sink name");
    // Two file sinks on one file would each see the other's lines as their own and skip events.
    const filePaths = new Set<string>();
    config.auditSinks.forEach((sink, index) => {
      if (sink.kind !== "file") return;
      if (filePaths.has(sink.path)) {
        ctx.addIssue({
          code: "custom",
          path: ["auditSinks", index, "path"],
          message: "another file sink writes here",
        });
      }
      filePaths.add(sink.path);
    });
    config.targets.forEach((target, index) => {
      const provider = target.onCall?.provider;
      if (provider !== undefined && config.onCall[provider] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["targets", index, "onCall", "provider"],
          message: `names ${provider}, but leasehold.yaml has no onCall.${provider} block; add it (its API URL and the variable holding its key)`,
        });
      }
    });
  });

export type LeaseholdConfig = z.output<typeof leaseholdConfigSchema>;
