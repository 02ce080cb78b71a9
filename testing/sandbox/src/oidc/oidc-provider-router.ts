import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { handleAuthorizeGet, handleAuthorizePost, SUPPORTED_SCOPES } from "./oidc-authorize-endpoint.js";
import { handleDeviceCode, handleDeviceGet, handleDevicePost } from "./oidc-device-endpoints.js";
import { renderErrorPage } from "./oidc-html.js";
import { sendHtml, sendJson } from "./oidc-http.js";
import type { ProviderContext } from "./oidc-provider-types.js";
import { handleToken } from "./oidc-token-endpoint.js";

const GRANT_TYPES = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"];

/** OpenID Connect Discovery 1.0 metadata; every endpoint the stand-in serves is listed. */
export function discoveryDocument(context: ProviderContext) {
  const url = context.issuer();
  return {
    issuer: url,
    authorization_endpoint: `${url}/authorize`,
    token_endpoint: `${url}/token`,
    device_authorization_endpoint: `${url}/device/code`,
    jwks_uri: `${url}/jwks`,
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: GRANT_TYPES,
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256", "ES256"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    code_challenge_methods_supported: ["S256"],
    claims_supported: [
      ...["iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "acr"],
      ...["email", "email_verified", "name", "groups"],
    ],
    acr_values_supported: [context.acr],
    prompt_values_supported: ["none", "login", "consent", "select_account"],
    authorization_response_iss_parameter_supported: true,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => unknown;

/** Routes by path, then method; only GET and POST exist anywhere. */
export function createProviderRouter(context: ProviderContext, jwks: () => unknown): RequestListener {
  const routes: Record<string, { GET?: Route; POST?: Route }> = {
    "/.well-known/openid-configuration": {
      GET: (_req, res) => sendJson(res, 200, discoveryDocument(context)),
    },
    "/jwks": { GET: (_req, res) => sendJson(res, 200, jwks()) },
    "/authorize": {
      GET: (_req, res, url) => handleAuthorizeGet(context, url, res),
      POST: (req, res) => handleAuthorizePost(context, req, res),
    },
    "/token": { POST: (req, res) => handleToken(context, req, res) },
    "/device/code": { POST: (req, res) => handleDeviceCode(context, req, res) },
    "/device": {
      GET: (_req, res, url) => handleDeviceGet(context, url, res),
      POST: (req, res) => handleDevicePost(context, req, res),
    },
  };
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in.invalid");
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (route === undefined) return sendJson(res, 404, { error: "not_found" });
    const handler = req.method === "GET" ? route.GET : req.method === "POST" ? route.POST : undefined;
    if (handler === undefined) {
      const allow = Object.keys(route).join(", ");
      return sendJson(res, 405, { error: "method_not_allowed" }, { Allow: allow });
    }
    // Through a promise so a synchronous throw is answered too, instead of taking the process down.
    Promise.resolve()
      .then(() => handler(req, res, url))
      .catch(() => {
        if (!res.headersSent)
          sendHtml(res, 500, renderErrorPage("Server error", "The stand-in failed; see the test output."));
        else res.destroy();
      });
  };
}
