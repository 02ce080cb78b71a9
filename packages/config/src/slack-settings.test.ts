import { describe, expect, it } from "vitest";
import { parseConfig } from "./load-config.js";

/** A valid leasehold.yaml with `slack` and the target's approvers' channel as given. */
const config = (slack: string, approversChannel = "C0123ABCD") => `
identityProviders:
  - name: corp
    issuer: https://login.example.com
    audience: leasehold
targets:
  - id: prod
    kind: aws-role
    requesters: { groups: [eng] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    slack: { approversChannel: "${approversChannel}" }
    aws:
      roleArn: arn:aws:iam::123456789012:role/Prod
slack:
${slack}
`;

/** What the person starting Leasehold reads: the ConfigError's message. */
const problemsOf = (text: string): string => {
  try {
    parseConfig(text, "leasehold.yaml");
  } catch (error) {
    return String(error);
  }
  return "";
};

describe("leasehold.yaml says what a Slack id is", () => {
  it("accepts Slack's user and channel ids", () => {
    expect(
      problemsOf(
        config(
          `  users: { U0123ABCD: alice@example.com, W0123ABCD: bob@example.com }\n  alertsChannel: G0123ABCD`,
        ),
      ),
    ).toBe("");
  });

  it.each(["@alice", "alice", "u0123abcd", "D0123ABCD"])("refuses the user id %j with the rule", (id) => {
    expect(problemsOf(config(`  users: { "${id}": alice@example.com }`))).toMatch(
      /slack\.users\..*: a Slack user id is U or W followed by 2–20 upper-case letters and digits, like U0123ABCD \(not a name or @handle\)/,
    );
  });

  it.each(["#alerts", "alerts", "c0123abcd", "D0123ABCD"])(
    "refuses the alerts channel %j with the rule",
    (id) => {
      expect(problemsOf(config(`  alertsChannel: "${id}"`))).toMatch(
        /slack\.alertsChannel: must be a Slack channel id: C or G followed by 2–20 upper-case letters and digits, like C0123ABCD \(not a #name\)/,
      );
    },
  );

  it("refuses an approvers' channel name with the rule", () => {
    expect(problemsOf(config("  useVerifiedEmail: true", "#prod-approvals"))).toMatch(
      /targets\[0\]\.slack\.approversChannel: must be a Slack channel id: C or G followed by 2–20 upper-case letters and digits, like C0123ABCD \(not a #name\)/,
    );
  });
});
