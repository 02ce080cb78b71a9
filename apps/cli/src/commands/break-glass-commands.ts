import { formatDuration } from "@leasehold/domain";
import { type Command, option, required } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";

type Item = {
  id: string;
  targetId: string;
  requesterId: string;
  durationSeconds: number;
  createdAt: string | null;
  reason: string;
  review: { verdict: string; reviewerId: string } | null;
};

const line = (item: Item) =>
  `${item.id}  ${item.targetId.padEnd(20)} ${item.requesterId.padEnd(28)} ${formatDuration(item.durationSeconds).padEnd(6)} ${item.createdAt ?? ""}  ${item.reason.split("\n")[0]}`;

/** `leasehold break-glass review <id> --justified|--unjustified [--comment]` and `leasehold break-glass open`. */
export const breakGlassCommand: Command = {
  name: "break-glass",
  usage:
    "leasehold break-glass open | leasehold break-glass review <request-id> --justified|--unjustified [--comment <text>]",
  summary: "break-glass reviews: the open items, and marking one justified or unjustified",
  options: {
    justified: { type: "boolean" },
    unjustified: { type: "boolean" },
    comment: { type: "string" },
  },
  async run(ctx, { positionals, values }) {
    const verb = required(positionals, 1, "what to do: open or review");
    const api = ctx.api();
    if (verb === "open") {
      const open = await api.requests.openBreakGlass.query({ limit: 200 });
      const lines = open.toReview.map(line);
      const mine = open.mine
        ? [
            "",
            `your break-glass ${open.mine.id} on ${open.mine.targetId} ${
              open.mine.review
                ? `is still active (reviewed: ${open.mine.review.verdict})`
                : "waits for its review"
            }; you cannot break glass again until it is reviewed and ended`,
          ]
        : [];
      ctx.print(
        [lines.length ? `to review:\n${lines.join("\n")}` : "nothing to review", ...mine].join("\n"),
        open,
      );
      return EXIT.ok;
    }
    if (verb !== "review")
      throw new CliError(`unknown break-glass action "${verb}"; use open or review`, EXIT.usage);
    const requestId = required(positionals, 2, "the break-glass request id");
    if (values.justified === values.unjustified) {
      throw new CliError("say --justified or --unjustified (exactly one)", EXIT.usage);
    }
    const verdict = values.justified ? "justified" : "unjustified";
    const comment = option(values, "comment");
    const result = await api.requests.reviewBreakGlass.mutate({
      requestId,
      verdict,
      ...(comment ? { comment } : {}),
    });
    ctx.print(
      `break-glass ${result.id} by ${result.requesterId} on ${result.targetId} marked ${verdict}`,
      result,
    );
    return EXIT.ok;
  },
};
