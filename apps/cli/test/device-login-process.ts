import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OidcIssuer } from "@leasehold/sandbox";
import { expect } from "vitest";

/** The CLI as a process for the device sign-in tests, and the person's side of the sign-in at the stand-in. */

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = ["--conditions=@leasehold/source", "--import", "tsx", "apps/cli/src/main.ts"];

export const CLIENT_ID = "leasehold-cli";
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code" as const;
export const DEV = { sub: "dev", email: "dev@example.com", name: "Dev", groups: ["engineering"] };
export const CLIENTS = [
  { clientId: CLIENT_ID, redirectUris: [], grantTypes: [DEVICE_GRANT, "refresh_token" as const] },
];

export type Result = { code: number | null; stdout: string; stderr: string };
export type Prompt = { verificationUri: string; userCode: string; verificationUriComplete?: string };

/** A fresh HOME / XDG_CONFIG_HOME for one person's token file. */
export const newHome = () => mkdtempSync(join(tmpdir(), "lh-device-"));
export const tokenFile = (home: string) => join(home, "leasehold", "token");

export const startCli = (home: string, apiUrl: string, ...args: string[]) =>
  spawn(process.execPath, [...CLI, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: home, LEASEHOLD_URL: apiUrl },
  });

export const finished = (child: ChildProcess) =>
  new Promise<Result>((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c) => {
      stdout += c;
    });
    child.stderr?.on("data", (c) => {
      stderr += c;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });

/** The first stdout line of `login --json`: where to sign in and the code. */
const promptOf = (child: ChildProcess) =>
  new Promise<Prompt>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (c) => {
      text += c;
      const newline = text.indexOf("\n");
      if (newline >= 0) resolve(JSON.parse(text.slice(0, newline)));
    });
    child.on("exit", () => reject(new Error(`login exited before prompting: ${text}`)));
  });

/** What the person does in the browser: the stand-in's /device form, approve as Dev or deny. */
async function decide(issuer: OidcIssuer, userCode: string, decision: "approve" | "deny") {
  const response = await fetch(`${issuer.url}/device`, {
    method: "POST",
    body: new URLSearchParams({ user_code: userCode, person: DEV.sub, decision }),
  });
  expect(response.status).toBe(200);
}

/** Runs `login --json`, decides at the stand-in once it prompts, and returns the prompt and the CLI's result. */
export async function deviceLogin(
  home: string,
  apiUrl: string,
  issuer: OidcIssuer,
  decision: "approve" | "deny",
) {
  const child = startCli(home, apiUrl, "login", "--json");
  const result = finished(child);
  const prompt = await promptOf(child);
  await decide(issuer, prompt.userCode, decision);
  return { prompt, result: await result };
}
