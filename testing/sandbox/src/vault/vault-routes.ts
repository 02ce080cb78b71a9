import type { TokenEntry, VaultCore } from "./vault-core.js";
import type { VaultCapability } from "./vault-sandbox-types.js";
import { envelope, VAULT_ERRORS, VaultHttpError } from "./vault-wire.js";

/**
 * Which Vault path does what, which capability it needs, and which paths are root-protected (sudo).
 * Authentication and unauthenticated paths (health, AppRole login) are the server's business
 * (vault-sandbox.ts); everything here runs for an authenticated token after its ACL allowed the request.
 */

export type VaultRequest = {
  /** Upper case; a GET with `?list=true` arrives here as LIST, as Vault treats it. */
  method: string;
  /** After `/v1/`, query removed. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
};

/** A handler's answer: a JSON body (envelope or other), or 204 without one. */
export type VaultReply = {
  status: number;
  body?: unknown;
};

export type VaultRoute = {
  /** Checked against the token's ACL on the request path. */
  capability: VaultCapability;
  /** Root-protected path: `sudo` is needed as well. */
  sudo: boolean;
  run(token: TokenEntry): Promise<VaultReply> | VaultReply;
};

const ok = (body: unknown): VaultReply => ({ status: 200, body });
const noContent: VaultReply = { status: 204 };

const isWrite = (method: string) => method === "POST" || method === "PUT";

/** The capability Vault derives from the HTTP method, before any existence check. */
function capabilityOf(method: string): VaultCapability {
  switch (method) {
    case "GET":
    case "HEAD":
      return "read";
    case "LIST":
      return "list";
    case "DELETE":
      return "delete";
    case "PATCH":
      return "patch";
    default:
      return "update";
  }
}

const unsupportedPath = () => {
  throw new VaultHttpError(404, [VAULT_ERRORS.unsupportedPath]);
};
const unsupportedOperation = () => {
  throw new VaultHttpError(405, [VAULT_ERRORS.unsupportedOperation]);
};

/** One route per (path, method); `handlers` maps the accepted methods, anything else is a 405. */
function byMethod(
  method: string,
  handlers: Partial<Record<"GET" | "LIST" | "WRITE" | "DELETE", VaultRoute["run"]>>,
  sudo = false,
): VaultRoute {
  const key = isWrite(method) ? "WRITE" : method;
  const handler =
    key === "GET" || key === "LIST" || key === "WRITE" || key === "DELETE" ? handlers[key] : undefined;
  return { capability: capabilityOf(method), sudo, run: handler ?? unsupportedOperation };
}

const listReply = (keys: readonly string[]): VaultReply => {
  // Vault answers an empty list with 404 and no errors.
  if (keys.length === 0) throw new VaultHttpError(404, []);
  return ok(envelope({ data: { keys } }));
};

/** The route for a request. Unknown paths still get a route (so the ACL is checked first, as in Vault). */
export function resolveRoute(core: VaultCore, request: VaultRequest): VaultRoute {
  const { method, path, body, query } = request;
  const segments = path.split("/");
  const mount = segments[0] ?? "";
  const rest = segments.slice(1).join("/");

  if (mount === "auth") return authRoute(core, request);
  if (mount === "sys") return sysRoute(core, request);

  if (mount === core.kvMount) {
    const [area = "", ...inner] = rest.split("/");
    const secretPath = inner.join("/");
    if (area === "data" && secretPath !== "" && !secretPath.endsWith("/")) {
      if (isWrite(method)) {
        // KV v2 has an existence check: writing a new secret needs `create`, an existing one `update`.
        return {
          capability: core.kvExists(secretPath) ? "update" : "create",
          sudo: false,
          run: () => ok(core.kvWrite(secretPath, body)),
        };
      }
      return byMethod(method, {
        GET: () => core.kvRead(secretPath, query.get("version")),
        DELETE: () => {
          core.kvDelete(secretPath);
          return noContent;
        },
      });
    }
    if (area === "metadata") {
      return byMethod(method, {
        ...(secretPath !== "" && !secretPath.endsWith("/")
          ? { GET: () => ok(core.kvMetadata(secretPath)) }
          : {}),
        LIST: () => listReply(core.kvList(secretPath)),
      });
    }
    return { capability: capabilityOf(method), sudo: false, run: unsupportedPath };
  }

  if (core.databaseMounts.has(mount)) {
    const match = /^creds\/([^/]+)$/.exec(rest);
    const roleName = match?.[1];
    if (roleName === undefined)
      return { capability: capabilityOf(method), sudo: false, run: unsupportedPath };
    return byMethod(method, {
      GET: async (token) => ok(await core.issueCredentials(mount, roleName, token)),
    });
  }

  return {
    capability: capabilityOf(method),
    sudo: false,
    run: () => {
      throw new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);
    },
  };
}

function authRoute(core: VaultCore, request: VaultRequest): VaultRoute {
  const { method, path, body } = request;
  switch (path) {
    case "auth/token/lookup-self":
      return byMethod(method, { GET: (token) => ok(envelope({ data: core.tokenData(token, true) })) });
    case "auth/token/create":
      return byMethod(method, {
        // Orphans, custom ids and policies outside the parent's need sudo on this path (or root).
        WRITE: (token) =>
          ok(core.createChildToken(token, body, core.aclOf(token).allows(path, "update", true))),
      });
    case "auth/token/renew-self":
      return byMethod(method, { WRITE: (token) => ok(core.renewToken(token, body.increment)) });
    case "auth/token/revoke-self":
      return byMethod(method, {
        WRITE: (token) => {
          core.revokeTokenTree(token);
          return noContent;
        },
      });
    // Root-protected in Vault: listing every token's accessor needs sudo on the path.
    case "auth/token/accessors":
      return byMethod(method, { LIST: () => listReply(core.tokenAccessors()) }, true);
    case "auth/token/revoke-accessor":
    case "auth/token/lookup-accessor":
      return byMethod(method, {
        WRITE: () => {
          const accessor = body.accessor;
          if (typeof accessor !== "string" || accessor === "")
            throw new VaultHttpError(400, ["missing accessor"]);
          const target = core.tokenByAccessor(accessor);
          if (target === undefined) throw new VaultHttpError(400, ["invalid accessor"]);
          if (path === "auth/token/lookup-accessor")
            return ok(envelope({ data: core.tokenData(target, false) }));
          core.revokeTokenTree(target);
          return noContent;
        },
      });
    default: {
      const appRoleRoute = appRolePathRoute(core, request);
      if (appRoleRoute !== undefined) return appRoleRoute;
      if (path.startsWith("auth/token/") || path.startsWith("auth/approle/")) {
        return { capability: capabilityOf(method), sudo: false, run: unsupportedPath };
      }
      return {
        capability: capabilityOf(method),
        sudo: false,
        run: () => {
          throw new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);
        },
      };
    }
  }
}

/** `auth/approle/role/:name/…`: secret ids and the role id (see vault-approle.ts); undefined for other paths. */
function appRolePathRoute(core: VaultCore, request: VaultRequest): VaultRoute | undefined {
  const { method, path, body } = request;
  const match =
    /^auth\/approle\/role\/([\w .-]+)\/(secret-id|secret-id\/lookup|secret-id-accessor\/lookup|secret-id-accessor\/destroy|role-id)$/.exec(
      path,
    );
  const name = match?.[1];
  const action = match?.[2];
  if (name === undefined || action === undefined) return undefined;
  const { appRoles } = core;
  switch (action) {
    case "secret-id":
      return byMethod(method, { WRITE: () => ok(appRoles.generate(name, body)) });
    case "secret-id/lookup":
      return byMethod(method, {
        WRITE: () => {
          const found = appRoles.lookupSecretId(name, body);
          return found === undefined ? noContent : ok(found);
        },
      });
    case "secret-id-accessor/lookup":
      return byMethod(method, { WRITE: () => ok(appRoles.lookupAccessor(name, body)) });
    case "secret-id-accessor/destroy":
      return byMethod(method, {
        WRITE: () => {
          appRoles.destroyByAccessor(name, body);
          return noContent;
        },
      });
    default:
      return byMethod(method, { GET: () => ok(appRoles.roleId(name)) });
  }
}

function sysRoute(core: VaultCore, request: VaultRequest): VaultRoute {
  const { method, path, body } = request;
  // Lease ids may also come in the URL (`sys/leases/renew/<lease id>`); the body wins, as in Vault.
  const leaseIdFrom = (prefix: string) =>
    body.lease_id ?? (path.length > prefix.length ? path.slice(prefix.length + 1) : undefined);
  const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

  if (under("sys/leases/renew")) {
    return byMethod(method, {
      WRITE: async () => ok(await core.renewLease(leaseIdFrom("sys/leases/renew"), body.increment)),
    });
  }
  if (under("sys/leases/revoke")) {
    return byMethod(method, {
      WRITE: async () => {
        await core.revokeLease(leaseIdFrom("sys/leases/revoke"));
        return noContent;
      },
    });
  }
  if (path === "sys/leases/lookup") {
    return byMethod(method, { WRITE: () => ok(core.lookupLease(body.lease_id)) });
  }
  return { capability: capabilityOf(method), sudo: false, run: unsupportedPath };
}
