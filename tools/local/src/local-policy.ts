/**
 * The seeded policy and identities of local mode: one AWS role target, a requester, two approvers
 * and an admin, vouched for by the local OIDC stand-in.
 */

export const LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/SandboxReadOnly";

export const LOCAL_PEOPLE = {
  dev: { email: "dev@example.com", groups: ["engineering"], role: "requester", slackId: "U0LOCALDEV" },
  alice: { email: "alice@example.com", groups: ["sre"], role: "approver", slackId: "U0LOCALALICE" },
  bob: { email: "bob@example.com", groups: ["sre"], role: "approver", slackId: "U0LOCALBOB" },
  sec: { email: "sec@example.com", groups: ["security"], role: "admin", slackId: "U0LOCALSEC" },
} as const;

/**
 * The local PagerDuty stand-in: dev is on call for the sandbox service, so dev's requests for
 * sandbox-oncall are approved by policy (and broadcast), as an on-call engineer's would be.
 */
export const LOCAL_PAGERDUTY = {
  token: "local-pagerduty-stand-in-not-a-key",
  service: "PSANDBOX",
  escalationPolicy: "PEPSANDBOX",
} as const;

/** The OIDC stand-in's clients: the console (public, PKCE) and the CLI (device grant). */
export const LOCAL_OIDC = {
  consoleClientId: "leasehold-console",
  cliClientId: "leasehold",
} as const;

/** The local Slack stand-in's bot token (not a real token) and approvers' channel. */
export const LOCAL_SLACK = {
  botToken: "xoxb-local-stand-in-not-a-token",
  channel: "C0LOCALAPPROVE",
} as const;

export const localConfig = (
  issuerUrl: string,
  pagerDutyUrl: string,
) => `# Written by local mode at each start; edit leasehold.example.yaml for your own.
identityProviders:
  - name: local
    issuer: "${issuerUrl}"
    audience: leasehold
    # The console signs people in with authorization code + PKCE; the CLI with the device grant, whose
    # ID tokens (audience leasehold) it sends as bearer tokens.
    login: { clientId: ${LOCAL_OIDC.consoleClientId}, cliClientId: ${LOCAL_OIDC.cliClientId} }
admins:
  groups: [security]
slack:
  useVerifiedEmail: true
  groups:
    engineering: [dev@example.com]
    sre: [alice@example.com, bob@example.com]
    security: [sec@example.com]
onCall:
  pagerduty: { apiUrl: "${pagerDutyUrl}" }
targets:
  - id: sandbox-readonly
    kind: aws-role
    description: Read-only role in the local AWS stand-in
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 2
    maxDuration: 1h
    defaultDuration: 15m
    # dev may break glass: access at once, broadcast to the approvers' channel and reviewed afterwards.
    breakGlass: { allowed: { users: [dev@example.com] }, maxDuration: 30m }
    slack: { approversChannel: ${LOCAL_SLACK.channel} }
    aws:
      roleArn: ${LOCAL_ROLE_ARN}
      sessionTags: { environment: local }
  # Whoever is on call for the sandbox service in PagerDuty (the stand-in: dev) is approved by policy.
  - id: sandbox-oncall
    kind: aws-role
    description: The same role, approved by policy for whoever is on call
    requesters: { groups: [engineering, sre] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    defaultDuration: 15m
    onCall: { provider: pagerduty, service: ${LOCAL_PAGERDUTY.service}, schedules: [${LOCAL_PAGERDUTY.escalationPolicy}] }
    autoApprove: { onCall: true }
    slack: { approversChannel: ${LOCAL_SLACK.channel} }
    aws:
      roleArn: ${LOCAL_ROLE_ARN}
      sessionTags: { environment: local }
  # Approvals count only from a sign-in with the identity provider in the last 5 minutes: the console
  # asks the approver to sign in again when theirs is older, and Slack's Approve button links there.
  - id: sandbox-sensitive
    kind: aws-role
    description: The same role, approved only after a fresh sign-in (step-up)
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    defaultDuration: 15m
    stepUp: { maxAge: 5m }
    slack: { approversChannel: ${LOCAL_SLACK.channel} }
    aws:
      roleArn: ${LOCAL_ROLE_ARN}
      sessionTags: { environment: local }
  # One approval is enough here, so an approver may also pre-approve someone for a window.
  - id: sandbox-scratch
    kind: aws-role
    description: The same role, for scratch work that one approver may approve
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    defaultDuration: 15m
    slack: { approversChannel: ${LOCAL_SLACK.channel} }
    aws:
      roleArn: ${LOCAL_ROLE_ARN}
      sessionTags: { environment: local }
`;
