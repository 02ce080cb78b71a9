import { ForbiddenError } from "@leasehold/domain";
import type { WebClient } from "@slack/web-api";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { refuse } from "./bot-deps.js";

describe("a refusal told to one person", () => {
  it("escapes identity text in the message (a domain error may name someone)", async () => {
    const sent: { text: string }[] = [];
    const record = async (args: { text: string }) => {
      sent.push(args);
      return { ok: true };
    };
    const client = { chat: { postEphemeral: record, postMessage: record } } as unknown as WebClient;
    const error = new ForbiddenError("<!channel>@example.com may not approve this request");
    await refuse(client, { user: "U0ALICE01", channel: "C0APPROVE" }, error, pino({ level: "silent" }));
    await refuse(client, { user: "U0ALICE01" }, error, pino({ level: "silent" }));
    expect(sent.map((m) => m.text)).toEqual([
      ":no_entry_sign: &lt;!channel&gt;@example.com may not approve this request",
      ":no_entry_sign: &lt;!channel&gt;@example.com may not approve this request",
    ]);
  });
});
