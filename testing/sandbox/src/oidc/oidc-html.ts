import type { OidcClient, OidcPerson } from "./oidc-provider-types.js";

/** Escapes text and attribute values alike (both quote kinds), so any value is safe anywhere we put it. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Marks a fragment already built from escaped parts. */
type Html = { html: string };
const raw = (html: string): Html => ({ html });

/** Template tag: every interpolated string is escaped; `Html` fragments (and arrays of them) are not. */
export function html(strings: TemplateStringsArray, ...values: (string | number | Html | Html[])[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    if (Array.isArray(value)) out += value.map((part) => part.html).join("");
    else if (typeof value === "object") out += value.html;
    else out += escapeHtml(String(value));
    out += strings[i + 1] ?? "";
  });
  return raw(out);
}

function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Leasehold local sign-in</title></head>
<body><main><h1>${title}</h1>
${body}
</main></body>
</html>`.html;
}

const hidden = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}">`;

/** The /authorize login page: one button per person, the pending id in a hidden field. */
export function renderLoginPage(input: {
  pendingId: string;
  client: OidcClient;
  people: readonly OidcPerson[];
}) {
  const buttons = input.people.map(
    (person) =>
      html`<li><button type="submit" name="person" value="${person.sub}">Sign in as ${person.name} (${person.email})</button></li>`,
  );
  return page(
    "Sign in",
    html`<p>The application <strong>${input.client.clientId}</strong> asks you to sign in.</p>
<form method="post" action="/authorize">
${hidden("pending", input.pendingId)}
<ul>${buttons}</ul>
<p><button type="submit" name="decision" value="deny">Cancel</button></p>
</form>`,
  );
}

/** An error shown to the person instead of a redirect (unknown client, unregistered redirect_uri, stale form). */
export function renderErrorPage(title: string, message: string) {
  return page(title, html`<p role="alert">${message}</p>`);
}

/** GET /device without a code (or with a bad one): a form to type the code. */
export function renderDeviceCodeEntry(problem?: string) {
  const alert = problem === undefined ? html`` : html`<p role="alert">${problem}</p>`;
  return page(
    "Connect a device",
    html`${alert}<form method="get" action="/device">
<label for="user_code">Code shown on your device</label>
<input name="user_code" id="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="16" required>
<button type="submit">Continue</button>
</form>`,
  );
}

/** GET /device?user_code=…: which client asks (RFC 8628 §5.4), approve as a person, or deny. */
export function renderDeviceApproval(input: {
  userCode: string;
  client: OidcClient;
  people: readonly OidcPerson[];
}) {
  const buttons = input.people.map(
    (person) =>
      html`<li><button type="submit" name="person" value="${person.sub}">Approve as ${person.name}</button></li>`,
  );
  return page(
    "Approve a device",
    html`<p>The application <strong>${input.client.clientId}</strong> asks for access with the code <strong>${input.userCode}</strong>. Approve only if you started this on your own device.</p>
<form method="post" action="/device">
${hidden("user_code", input.userCode)}${hidden("decision", "approve")}
<ul>${buttons}</ul>
</form>
<form method="post" action="/device">
${hidden("user_code", input.userCode)}
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function renderDeviceDone(approved: boolean) {
  return approved
    ? page("Device approved", html`<p>You can return to your device.</p>`)
    : page("Device denied", html`<p>The device was not given access.</p>`);
}
