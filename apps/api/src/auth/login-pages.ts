const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page a failed sign-in ends on: what went wrong and a link to try again. No script and no
 * inline style (the console's CSP allows neither); `message` is one of ours, escaped all the same.
 */
export function signInErrorPage(message: string, retryUrl = "/auth/login"): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign-in failed · Leasehold</title></head>
<body>
<main>
<h1>Sign-in failed</h1>
<p>${escapeHtml(message)}</p>
<p><a href="${escapeHtml(retryUrl)}">Try signing in again</a></p>
</main>
</body>
</html>
`;
}
