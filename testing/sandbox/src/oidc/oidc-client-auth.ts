import type { IncomingMessage } from "node:http";
import type { Params } from "./oidc-http.js";
import type { OidcClient, ProviderContext } from "./oidc-provider-types.js";
import { secretsEqual } from "./oidc-stores.js";

export type ClientAuthResult = { ok: true; client: OidcClient } | { ok: false; basicTried: boolean };

/** Decodes `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1), or undefined when malformed. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

/**
 * client_secret_basic, client_secret_post, or none for a client registered without a secret. A client
 * with a secret must present it; using two methods at once is refused (RFC 6749 §2.3).
 */
export function authenticateClient(
  context: ProviderContext,
  req: IncomingMessage,
  form: Params & { ok: true },
) {
  const basic = basicCredentials(req.headers.authorization);
  const basicTried = req.headers.authorization !== undefined;
  const postedSecret = form.get("client_secret");
  const fail: ClientAuthResult = { ok: false, basicTried };
  if (basicTried && (basic === undefined || postedSecret !== undefined)) return fail;
  const formId = form.get("client_id");
  if (basic !== undefined && formId !== undefined && formId !== basic.id) return fail;
  const clientId = basic?.id ?? formId;
  const client = clientId === undefined ? undefined : context.clients.get(clientId);
  if (client === undefined) return fail;
  const presented = basic?.secret ?? postedSecret;
  if (client.clientSecret === undefined) return presented === undefined ? { ok: true, client } : fail;
  if (presented === undefined || !secretsEqual(presented, client.clientSecret)) return fail;
  return { ok: true, client } satisfies ClientAuthResult;
}

export function clientAllows(
  client: OidcClient,
  grant: NonNullable<OidcClient["grantTypes"]>[number],
): boolean {
  return client.grantTypes === undefined || client.grantTypes.includes(grant);
}
