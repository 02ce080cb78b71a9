import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { CliError, EXIT } from "./exit-codes.js";

/**
 * The token file `leasehold login` writes (`$XDG_CONFIG_HOME/leasehold/token`, mode 0600): the ID token the
 * CLI sends as its bearer, when it expires, and, after a device sign-in, the refresh token and where it is
 * redeemed. Before this format the file held a bare JWT; such files are still read.
 */

/** A JWT in compact form, bounded like the API bounds bearer tokens. */
const jwt = z
  .string()
  .max(8192)
  .regex(/^[\w-]+\.[\w-]+\.[\w-]*$/, "must be a JWT");

export const storedLoginSchema = z.object({
  version: z.literal(1),
  issuer: z.url({ protocol: /^https?$/ }).max(2048),
  clientId: z.string().min(1).max(256),
  idToken: jwt,
  refreshToken: z.string().min(1).max(8192).optional(),
  /** When the ID token expires (its `exp`), ISO 8601. */
  expiresAt: z.iso.datetime({ offset: true }),
});

export type StoredLogin = z.infer<typeof storedLoginSchema>;

/** What a token file holds: a stored login, or the bare JWT older CLIs wrote. */
export type TokenFileContent = { format: "login"; login: StoredLogin } | { format: "bare"; idToken: string };

/** How long before its expiry an ID token is refreshed rather than sent. */
export const REFRESH_MARGIN_MS = 60_000;

export function parseTokenFile(text: string): TokenFileContent {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) {
    if (!jwt.safeParse(trimmed).success) throw unreadable();
    return { format: "bare", idToken: trimmed };
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw unreadable();
  }
  const parsed = storedLoginSchema.safeParse(json);
  if (!parsed.success) throw unreadable();
  return { format: "login", login: parsed.data };
}

const unreadable = () =>
  new CliError("the stored token file is not readable; run `leasehold login`", EXIT.unauthenticated);

/** Reads the token file; a missing file means nobody is logged in. */
export function readTokenFile(path: string): TokenFileContent {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new CliError("you are not logged in; run `leasehold login`", EXIT.unauthenticated);
  }
  return parseTokenFile(text);
}

/**
 * Writes the token file with mode 0600 in a 0700 directory. The file is written beside its final name and
 * renamed, so a reader (another CLI process) never sees half a file.
 */
export function writeTokenFile(path: string, login: StoredLogin): void {
  const content = `${JSON.stringify(storedLoginSchema.parse(login))}\n`;
  const directory = dirname(path);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  chmodSync(directory, 0o700);
  const temporary = `${path}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  try {
    writeFileSync(temporary, content, { mode: 0o600, flag: "wx" });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Deletes the token file; true when there was one. */
export function deleteTokenFile(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/**
 * What to do with the stored ID token before an API call: send it, or refresh it first (it expires within
 * the margin and a refresh token is there). Without a refresh token an expiring token is sent as it is: the
 * API then says whether it still takes it.
 */
export function refreshDecision(content: TokenFileContent, now: Date): "send" | "refresh" {
  if (content.format === "bare" || content.login.refreshToken === undefined) return "send";
  const expiresAt = Date.parse(content.login.expiresAt);
  return expiresAt - now.getTime() <= REFRESH_MARGIN_MS ? "refresh" : "send";
}

/** The ID token a token file holds. */
export const idTokenOf = (content: TokenFileContent): string =>
  content.format === "bare" ? content.idToken : content.login.idToken;

/**
 * A stored login (without a refresh token) for a token someone brought (`--local`, `--token-file`,
 * `--token-stdin`): issuer, client and expiry read from its claims, unverified: the API verifies it.
 */
export function loginFromToken(token: string): StoredLogin {
  if (!jwt.safeParse(token).success) throw new CliError("that is not a JWT", EXIT.usage);
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
  } catch {
    throw new CliError("that is not a JWT", EXIT.usage);
  }
  const parsed = z
    .object({
      iss: z.url({ protocol: /^https?$/ }).max(2048),
      aud: z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1).max(20)]),
      azp: z.string().min(1).max(256).optional(),
      exp: z.number().int().positive().max(253_402_300_799),
    })
    .safeParse(claims);
  if (!parsed.success)
    throw new CliError("that token needs iss, aud and exp claims like an ID token", EXIT.usage);
  const { iss, aud, azp, exp } = parsed.data;
  return {
    version: 1,
    issuer: iss,
    clientId: azp ?? (typeof aud === "string" ? aud : (aud[0] as string)),
    idToken: token,
    expiresAt: new Date(exp * 1000).toISOString(),
  };
}
