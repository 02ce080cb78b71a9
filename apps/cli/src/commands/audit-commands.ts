import { parseCheckpointPublicKey } from "@leasehold/config";
import type { AuditCheckpoint } from "@leasehold/domain";
import {
  checkpointProblems,
  type FoundCheckpoint,
  readCheckpoints,
  readPublicKeys,
} from "../checkpoint-file.js";
import { type CliContext, type Command, option, required } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";

const PAGE = 500;

export const auditCommand: Command = {
  name: "audit",
  usage: [
    "leasehold audit verify [--expect <seq>:<hash> | --checkpoint <file|s3://bucket/prefix> [--public-key <pem>]...]",
    "       leasehold audit export [--after <seq>]",
    "       leasehold audit public-key",
    "       leasehold audit checkpoint verify <file|s3://bucket/prefix> --public-key <pem> [--public-key <pem>]...",
  ].join("\n"),
  summary:
    "verify the audit chain (against a head you recorded or a signed checkpoint), export it as JSON lines, check checkpoints' signatures offline (admins; `checkpoint verify` needs no login)",
  options: {
    after: { type: "string" },
    expect: { type: "string" },
    checkpoint: { type: "string" },
    "public-key": { type: "string", multiple: true },
  },
  async run(ctx, { positionals, values }) {
    switch (positionals[1]) {
      case "verify":
        return option(values, "checkpoint") === undefined
          ? verifyTrail(ctx, parseHead(option(values, "expect")))
          : verifyAgainstCheckpoint(ctx, values);
      case "export":
        return exportTrail(ctx, option(values, "after"));
      case "public-key": {
        const key = await ctx.api().audit.publicKey.query();
        ctx.print(key.publicKeyPem.trimEnd(), key);
        return EXIT.ok;
      }
      case "checkpoint":
        if (positionals[2] === "verify") return verifyCheckpointsOffline(ctx, positionals, values);
        break;
    }
    throw new CliError(
      "say `leasehold audit verify`, `audit export`, `audit public-key` or `audit checkpoint verify`",
      EXIT.usage,
    );
  },
};

async function verifyTrail(ctx: CliContext, expectedHead: { seq: number; hash: string } | undefined) {
  const result = await ctx.api().audit.verify.query(expectedHead ? { expectedHead } : {});
  ctx.print(
    result.ok
      ? `the audit trail verifies: ${result.events} events, head ${result.head.seq}:${result.head.hash}`
      : `THE AUDIT TRAIL DOES NOT VERIFY:\n${result.problems.map((p) => `  event ${p.seq}: ${p.problem}`).join("\n")}`,
    result,
  );
  return result.ok ? EXIT.ok : EXIT.failure;
}

async function exportTrail(ctx: CliContext, after: string | undefined) {
  const api = ctx.api();
  let afterSeq = Number(after ?? 0);
  if (!Number.isInteger(afterSeq) || afterSeq < 0)
    throw new CliError("--after takes an event number", EXIT.usage);
  for (;;) {
    const events = await api.audit.list.query({ afterSeq, limit: PAGE });
    for (const event of events) process.stdout.write(`${JSON.stringify(event)}\n`);
    if (events.length < PAGE) return EXIT.ok;
    afterSeq = events.at(-1)?.seq ?? afterSeq;
  }
}

const publicKeyFiles = (values: Record<string, unknown>): string[] =>
  Array.isArray(values["public-key"]) ? (values["public-key"] as string[]) : [];

const describe = (c: AuditCheckpoint) => `event ${c.seq} (${c.hash}), signed ${c.at} by key ${c.keyId}`;

/**
 * `audit verify --checkpoint <file>`: the checkpoints' signatures first (with the keys given, or the
 * installation's own from the API), then the trail against the newest of them: a trail shorter than
 * it, or with another event at its seq, fails and the gap is named.
 */
async function verifyAgainstCheckpoint(ctx: CliContext, values: Record<string, unknown>) {
  const file = option(values, "checkpoint") ?? "";
  if (option(values, "expect") !== undefined) {
    throw new CliError("give --expect or --checkpoint, not both", EXIT.usage);
  }
  const found = await readCheckpoints(file, ctx.env.s3);
  const api = ctx.api();
  const files = publicKeyFiles(values);
  const keys =
    files.length > 0
      ? readPublicKeys(files)
      : await api.audit.publicKey
          .query()
          .then(
            (k) =>
              new Map(
                [k, ...k.previous].map((each) => [each.keyId, parseCheckpointPublicKey(each.publicKeyPem)]),
              ),
          );
  const problems = checkpointProblems(found, keys);
  const newest = (found.at(-1) as FoundCheckpoint).checkpoint;
  if (problems.length > 0) {
    ctx.print(`THE CHECKPOINTS IN ${file} DO NOT VERIFY:\n${problems.map((p) => `  ${p}`).join("\n")}`, {
      ok: false,
      checkpoint: newest,
      checkpointProblems: problems,
    });
    return EXIT.failure;
  }
  const result = await api.audit.verify.query({ expectedHead: { seq: newest.seq, hash: newest.hash } });
  const gap =
    result.head.seq < newest.seq
      ? `events ${result.head.seq + 1}–${newest.seq} are signed in the checkpoint and missing from the trail`
      : undefined;
  ctx.print(
    result.ok
      ? `the audit trail verifies against the checkpoint of ${describe(newest)}: ${result.events} events, head ${result.head.seq}:${result.head.hash}`
      : [
          `THE AUDIT TRAIL DOES NOT VERIFY against the checkpoint of ${describe(newest)}:`,
          ...(gap ? [`  the gap: ${gap}`] : []),
          ...result.problems.map((p) => `  event ${p.seq}: ${p.problem}`),
        ].join("\n"),
    { ...result, checkpoint: newest, ...(gap ? { gap } : {}) },
  );
  return result.ok ? EXIT.ok : EXIT.failure;
}

/** `audit checkpoint verify <file> --public-key <pem>`: signatures and order only, with no API and no login. */
async function verifyCheckpointsOffline(
  ctx: CliContext,
  positionals: string[],
  values: Record<string, unknown>,
) {
  const file = required(positionals, 3, "the checkpoint file");
  const files = publicKeyFiles(values);
  if (files.length === 0) throw new CliError("give the public key with --public-key <pem file>", EXIT.usage);
  const found = await readCheckpoints(file, ctx.env.s3);
  const problems = checkpointProblems(found, readPublicKeys(files));
  const newest = (found.at(-1) as FoundCheckpoint).checkpoint;
  ctx.print(
    problems.length === 0
      ? `${found.length} checkpoint${found.length === 1 ? "" : "s"} verified; the newest covers ${describe(newest)}`
      : `THE CHECKPOINTS IN ${file} DO NOT VERIFY:\n${problems.map((p) => `  ${p}`).join("\n")}`,
    { ok: problems.length === 0, checkpoints: found.length, newest, problems },
  );
  return problems.length === 0 ? EXIT.ok : EXIT.failure;
}

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
