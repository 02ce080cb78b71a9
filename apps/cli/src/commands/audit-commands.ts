import { type Command, option } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";

const PAGE = 500;

export const auditCommand: Command = {
  name: "audit",
  usage: "leasehold audit verify [--expect <seq>:<hash>] | leasehold audit export [--after <seq>]",
  summary: "verify the audit chain (against a head you recorded), or export events as JSON lines (admins)",
  options: { after: { type: "string" }, expect: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const api = ctx.api();
    if (positionals[1] === "verify") {
      const expectedHead = parseHead(option(values, "expect"));
      const result = await api.audit.verify.query(expectedHead ? { expectedHead } : {});
      ctx.print(
        result.ok
          ? `the audit trail verifies: ${result.events} events, head ${result.head.seq}:${result.head.hash}`
          : `THE AUDIT TRAIL DOES NOT VERIFY:\n${result.problems.map((p) => `  event ${p.seq}: ${p.problem}`).join("\n")}`,
        result,
      );
      return result.ok ? EXIT.ok : EXIT.failure;
    }
    if (positionals[1] === "export") {
      let afterSeq = Number(option(values, "after") ?? 0);
      if (!Number.isInteger(afterSeq) || afterSeq < 0)
        throw new CliError("--after takes an event number", EXIT.usage);
      for (;;) {
        const events = await api.audit.list.query({ afterSeq, limit: PAGE });
        for (const event of events) process.stdout.write(`${JSON.stringify(event)}\n`);
        if (events.length < PAGE) return EXIT.ok;
        afterSeq = events.at(-1)?.seq ?? afterSeq;
      }
    }
    throw new CliError("say `leasehold audit verify` or `leasehold audit export`", EXIT.usage);
  },
};

/** `<seq>:<hash>`, as `audit verify` prints a head; recorded outside Leasehold, it shows a cut-back trail. */
function parseHead(text: string | undefined): { seq: number; hash: string } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text);
  if (!match)
    throw new CliError(
      "--expect takes <seq>:<hash>, as `leasehold audit verify` prints the head",
      EXIT.usage,
    );
  return { seq: Number(match[1]), hash: match[2] ?? "" };
}
