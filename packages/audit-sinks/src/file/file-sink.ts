import { mkdir, open, readdir, rename, stat, truncate } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type AuditEvent, type AuditSink, UpstreamError } from "@leasehold/domain";
import { recordOf } from "../audit-record.js";
import type { FileAuditSinkSettings } from "./file-sink-schema.js";
import { readTail, seqOfLine } from "./file-tail.js";

/** `20261206T012000123Z`: sorts as it happened, and is safe in a file name on every system. */
const stampOf = (at: Date) => at.toISOString().replace(/[-:.]/g, "");
const ROTATED = /^\d{8}T\d{9}Z(?:-\d+)?$/;

const fsyncDirectory = async (dir: string) => {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/**
 * The JSON-lines file sink. Each delivery first reads the last `seq` the file holds (or, when the
 * current file is new, the newest rotated file) and appends only the events after it, then fsyncs:
 * the cursor moves only after that, and a delivery repeated after a crash between the two appends
 * nothing twice. The tail is read on every delivery rather than remembered, because another worker
 * replica (under the same per-sink lock) may have written since. A final line without its newline is
 * a write a crash cut short, never acknowledged: it is cut off and written again.
 */
export function createFileSink(settings: FileAuditSinkSettings, deps: { clock: () => Date }): AuditSink {
  const { path, format, rotate } = settings;
  const dir = dirname(path);
  const base = basename(path);
  /** When this process created the current file (an inode it knows); else the file's own times. */
  let created: { ino: number; at: Date } | undefined;

  const failure = (what: string, cause?: unknown) =>
    new UpstreamError(`file audit sink "${settings.name}": ${what}`, { retryable: true, cause });

  const rotatedFiles = async () =>
    (await readdir(dir))
      .filter((f) => f.startsWith(`${base}.`) && ROTATED.test(f.slice(base.length + 1)))
      .sort();

  const lastSeqOf = async (file: string, cutPartial: boolean): Promise<number | undefined> => {
    const handle = await open(file, "r");
    let tail: Awaited<ReturnType<typeof readTail>>;
    try {
      tail = await readTail(handle, (await handle.stat()).size);
    } finally {
      await handle.close();
    }
    if (tail.partialFrom !== undefined && cutPartial) await truncate(file, tail.partialFrom);
    if (tail.lastLine === undefined) return undefined;
    const seq = seqOfLine(tail.lastLine);
    if (seq === undefined) {
      throw failure(`the last line of ${file} is not a Leasehold audit record; move the file aside`);
    }
    return seq;
  };

  /** The newest `seq` on disk: the current file's last record, else the newest rotated file's, else 0. */
  const lastSeqOnDisk = async (): Promise<number> => {
    const current = await stat(path).catch(() => undefined);
    const inCurrent = current ? await lastSeqOf(path, true) : undefined;
    if (inCurrent !== undefined) return inCurrent;
    const newest = (await rotatedFiles()).at(-1);
    return newest === undefined ? 0 : ((await lastSeqOf(join(dir, newest), false)) ?? 0);
  };

  const rotateIfDue = async () => {
    const current = await stat(path).catch(() => undefined);
    if (!current || current.size === 0) return;
    const now = deps.clock();
    const bornAt =
      created?.ino === current.ino ? created.at : current.birthtimeMs > 0 ? current.birthtime : current.mtime;
    const tooBig = rotate.maxBytes !== undefined && current.size >= rotate.maxBytes;
    const tooOld = rotate.maxAge !== undefined && now.getTime() - bornAt.getTime() >= rotate.maxAge * 1000;
    if (!tooBig && !tooOld) return;
    const taken = new Set(await rotatedFiles());
    let name = `${base}.${stampOf(now)}`;
    for (let n = 1; taken.has(name); n += 1) name = `${base}.${stampOf(now)}-${n}`;
    await rename(path, join(dir, name));
    await fsyncDirectory(dir);
  };

  const append = async (text: string) => {
    const existed = await stat(path).catch(() => undefined);
    const handle = await open(path, "a");
    try {
      if (!existed) created = { ino: (await handle.stat()).ino, at: deps.clock() };
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    // A new file's directory entry must be durable too, or a crash could lose the whole file.
    if (!existed) await fsyncDirectory(dir);
  };

  return {
    name: settings.name,
    async deliver(events: readonly AuditEvent[]) {
      if (events.length === 0) return;
      try {
        await mkdir(dir, { recursive: true });
        const last = await lastSeqOnDisk();
        const fresh = events.filter((event) => event.seq > last);
        if (fresh.length === 0) return;
        await rotateIfDue();
        await append(fresh.map((event) => `${JSON.stringify(recordOf(format, event))}\n`).join(""));
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        // The system's message (ENOSPC, EACCES) names the path at most; there is no secret in a file sink.
        throw failure((error as Error).message, error);
      }
    },
  };
}
