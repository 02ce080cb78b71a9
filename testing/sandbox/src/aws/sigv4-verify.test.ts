import { describe, expect, it } from "vitest";
import { AwsQueryError } from "./aws-query-error.js";
import {
  checkRequestTime,
  computeSignature,
  parseAmzDate,
  parseAuthorization,
  type ReceivedRequest,
  verifySignature,
} from "./sigv4-verify.js";

// AWS's published SigV4 test suite, case "get-vanilla" (example secret key from the AWS docs).
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const VANILLA_AUTHORIZATION =
  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const vanilla: ReceivedRequest = {
  method: "GET",
  url: "/",
  rawHeaders: ["Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"],
  body: Buffer.alloc(0),
};

describe("SigV4 verification", () => {
  it("computes the signature of AWS's get-vanilla test case", () => {
    const authorization = parseAuthorization(VANILLA_AUTHORIZATION);
    expect(computeSignature(vanilla, authorization, "20150830T123600Z", SECRET).toString("hex")).toBe(
      authorization.signature,
    );
    expect(() => verifySignature(vanilla, authorization, "20150830T123600Z", SECRET)).not.toThrow();
  });

  it("refuses the same request with another secret, a changed header or a changed path", () => {
    const authorization = parseAuthorization(VANILLA_AUTHORIZATION);
    const refused = (request: ReceivedRequest, secret = SECRET) => {
      try {
        verifySignature(request, authorization, "20150830T123600Z", secret);
        return "accepted";
      } catch (error) {
        return error instanceof AwsQueryError ? error.code : "other";
      }
    };
    expect(refused(vanilla, `${SECRET}x`)).toBe("SignatureDoesNotMatch");
    expect(
      refused({
        ...vanilla,
        rawHeaders: ["Host", "example.amazonaws.com:1", "X-Amz-Date", "20150830T123600Z"],
      }),
    ).toBe("SignatureDoesNotMatch");
    expect(refused({ ...vanilla, url: "/other" })).toBe("SignatureDoesNotMatch");
    expect(refused({ ...vanilla, body: Buffer.from("x") })).toBe("SignatureDoesNotMatch");
  });

  it("refuses a malformed or missing Authorization header", () => {
    const codeOf = (header: string | undefined) => {
      try {
        parseAuthorization(header);
        return "accepted";
      } catch (error) {
        return error instanceof AwsQueryError ? `${error.status} ${error.code}` : "other";
      }
    };
    expect(codeOf(undefined)).toBe("403 MissingAuthenticationToken");
    expect(codeOf("AWS4-HMAC-SHA1 Credential=a/b/c/d/aws4_request")).toBe("400 IncompleteSignature");
    expect(codeOf("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, Signature=ab")).toBe(
      "400 IncompleteSignature",
    );
    expect(
      codeOf(
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws5, SignedHeaders=host, Signature=ab",
      ),
    ).toBe("400 IncompleteSignature");
    expect(
      codeOf(
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, SignedHeaders=x-amz-date, Signature=ab",
      ),
    ).toBe("400 IncompleteSignature");
  });

  it("accepts X-Amz-Date up to five minutes either side of the server clock, and no further", () => {
    const authorization = parseAuthorization(VANILLA_AUTHORIZATION);
    const at = (iso: string) => new Date(iso);
    const messageAt = (now: Date) => {
      try {
        checkRequestTime(vanilla.rawHeaders, authorization, now);
        return "accepted";
      } catch (error) {
        return error instanceof AwsQueryError ? `${error.code}: ${error.message}` : "other";
      }
    };
    expect(messageAt(at("2015-08-30T12:41:00Z"))).toBe("accepted");
    expect(messageAt(at("2015-08-30T12:31:00Z"))).toBe("accepted");
    expect(messageAt(at("2015-08-30T12:41:01Z"))).toBe(
      "SignatureDoesNotMatch: Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)",
    );
    expect(messageAt(at("2015-08-30T12:30:59Z"))).toMatch(
      /^SignatureDoesNotMatch: Signature not yet current/,
    );
  });

  it("parses only real instants in the basic ISO 8601 form", () => {
    expect(parseAmzDate("20150830T123600Z")?.toISOString()).toBe("2015-08-30T12:36:00.000Z");
    expect(parseAmzDate("20151330T123600Z")).toBeUndefined();
    expect(parseAmzDate("2015-08-30T12:36:00Z")).toBeUndefined();
  });
});
