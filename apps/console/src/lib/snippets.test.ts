import { describe, expect, it } from "vitest";
import { awsProfileSnippet, credsSnippet, execSnippet } from "./snippets.js";

const id = "0b3c6f0e-8d8a-4c1e-9a55-2f1f3b9d7e11";

describe("grant snippets", () => {
  it("uses the CLI's real command names", () => {
    expect(execSnippet(id)).toBe(`leasehold exec ${id} -- aws sts get-caller-identity`);
    expect(execSnippet(id, "psql")).toBe(`leasehold exec ${id} -- psql`);
    expect(credsSnippet(id)).toBe(`eval "$(leasehold creds ${id})"`);
    expect(awsProfileSnippet(id)).toBe(
      `[profile leasehold]\ncredential_process = leasehold credential-process ${id}`,
    );
  });

  it("keeps a profile name to characters the AWS config accepts", () => {
    expect(awsProfileSnippet(id, "prod db]")).toContain("[profile prod-db-]");
  });

  it("refuses a grant id that is not a UUID", () => {
    expect(() => execSnippet("x; rm -rf /")).toThrow("UUID");
    expect(() => awsProfileSnippet("$(id)")).toThrow("UUID");
  });
});
