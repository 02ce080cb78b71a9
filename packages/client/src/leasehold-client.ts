import { z } from "zod";

/** Where Leasehold is, and how to get a workload token (read fresh each call: tokens rotate). */
export type LeaseholdClientOptions = {
  /** The API's base URL, like `https://leasehold.internal`. */
  readonly url: string;
  /** The workload's OIDC token: a Kubernetes service-account token, a GitHub Actions token, a JWT-SVID. */
  readonly token: () => string | Promise<string>;
  readonly fetch?: typeof fetch;
  /** Per call; default 15 s. */
  readonly timeoutMs?: number;
};

const leaseSchema = z.object({
  id: z.string(),
  targetId: z.string(),
  state: z.string(),
  expiresAt: z.string().nullable(),
});

export type Lease = {
  readonly id: string;
  readonly targetId: string;
  readonly state: string;
  readonly expiresAt: Date | null;
};

export type LeasedCredential = {
  readonly lease: Lease;
  /** The backend's fields; for databases: username, password (and host, port, database, url for `sql`). */
  readonly credential: Readonly<Record<string, string>>;
};

/** An error Leasehold answered with; `code` is tRPC's (UNAUTHORIZED, FORBIDDEN, BAD_REQUEST, …). */
export class LeaseholdError extends Error {
  override readonly name = "LeaseholdError";
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const toLease = (raw: z.infer<typeof leaseSchema>): Lease => ({
  id: raw.id,
  targetId: raw.targetId,
  state: raw.state,
  expiresAt: raw.expiresAt ? new Date(raw.expiresAt) : null,
});

/** A small client for applications: lease, renew, revoke. It speaks the API's tRPC-over-HTTP shape. */
export function createLeaseholdClient(options: LeaseholdClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const call = async (procedure: string, input: unknown): Promise<unknown> => {
    const response = await doFetch(`${options.url.replace(/\/$/, "")}/trpc/${procedure}`, {
      method: "POST",
      headers: { authorization: `Bearer ${await options.token()}`, "content-type": "application/json" },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const body = (await response.json().catch(() => ({}))) as {
      result?: { data?: unknown };
      error?: { message?: string; data?: { code?: string } };
    };
    if (!response.ok || body.error) {
      throw new LeaseholdError(
        body.error?.message ?? `Leasehold answered HTTP ${response.status}`,
        body.error?.data?.code ?? "UNKNOWN",
        response.status,
      );
    }
    return body.result?.data;
  };

  return {
    /** A new lease on `targetId`; `ttlSeconds` omitted: the target's default within the lease rule. */
    async lease(targetId: string, ttlSeconds?: number): Promise<LeasedCredential> {
      const data = z
        .object({ grant: leaseSchema, credential: z.record(z.string(), z.string()) })
        .parse(
          await call("leases.create", { targetId, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) }),
        );
      return { lease: toLease(data.grant), credential: data.credential };
    },
    async renew(leaseId: string, incrementSeconds: number): Promise<Lease> {
      return toLease(leaseSchema.parse(await call("leases.renew", { grantId: leaseId, incrementSeconds })));
    },
    async revoke(leaseId: string): Promise<void> {
      await call("grants.revoke", { grantId: leaseId, reason: "released by the application" });
    },
  };
}

export type LeaseholdClient = ReturnType<typeof createLeaseholdClient>;
