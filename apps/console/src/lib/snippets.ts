/**
 * Copy-paste commands for a grant, with the CLI's real command names (apps/cli/src/commands/grant-commands.ts):
 * `leasehold exec <grant-id> -- <command>` and `leasehold credential-process <grant-id>`.
 * A grant id is a UUID; anything else is refused rather than pasted into a shell line.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkedId(grantId: string): string {
  if (!UUID.test(grantId)) throw new Error("a grant id is a UUID");
  return grantId;
}

/** Runs one command with the grant's credentials in its environment only. */
export const execSnippet = (grantId: string, command = "aws sts get-caller-identity") =>
  `leasehold exec ${checkedId(grantId)} -- ${command}`;

/** Prints the grant's credentials for eval in a shell (every read is audited). */
export const credsSnippet = (grantId: string) => `eval "$(leasehold creds ${checkedId(grantId)})"`;

/** A ~/.aws/config profile whose credentials come from the grant (AWS session grants only). */
export const awsProfileSnippet = (grantId: string, profile = "leasehold") =>
  `[profile ${profile.replace(/[^A-Za-z0-9_.-]/g, "-")}]\ncredential_process = leasehold credential-process ${checkedId(grantId)}`;
