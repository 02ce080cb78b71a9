import type { OidcIssuer } from "@leasehold/sandbox";

/** The test identities, as an OIDC issuer would vouch for them. */
export const PEOPLE = {
  dev: { email: "dev@example.com", groups: ["engineering"] },
  alice: { email: "alice@example.com", groups: ["sre"] },
  bob: { email: "bob@example.com", groups: ["sre"] },
  mallory: { email: "mallory@example.com", groups: ["engineering"] },
  sec: { email: "sec@example.com", groups: ["security"] },
} as const;

export type Person = keyof typeof PEOPLE;

export const ROLE_ARN = "arn:aws:iam::123456789012:role/ProdReadOnly";

/** leasehold.yaml for the tests; `{issuer}` is the test issuer's URL. */
export const TEST_CONFIG = `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
admins:
  groups: [security]
targets:
  - id: prod-readonly
    kind: aws-role
    description: Read-only production
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 2
    maxDuration: 1h
    defaultDuration: 15m
    ticket: { pattern: "[A-Z]+-[0-9]+" }
    aws:
      roleArn: ${ROLE_ARN}
      sessionTags: { environment: production }
`;

/** A valid ID token for a test person. */
export const tokenFor = (issuer: OidcIssuer, who: Person) =>
  issuer.mint(
    { sub: `sub-${who}`, email: PEOPLE[who].email, email_verified: true, groups: [...PEOPLE[who].groups] },
    { audience: "leasehold" },
  );
