import { mkdir, open, stat, truncate } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type AuditEvent, type AuditSink, UpstreamError } from "@leasehold/domain";
import { recordOf } from "../audit-record.js";
import { fsyncDirectory, rotatedFilesOf, rotateIfDue } from "./file-rotation.js";
import type { FileAuditSinkSettings } from "./file-sink-schema.js";
import { readTail, recordOfLine } from "./file-tail.js";

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
  /**
   * Since when the current file exists: when this process created it, else its birth time, else (a
   * file system that keeps none) when this process first saw it.
   */
  let known: { ino: number; at: Date } | undefined;
  const bornAt = (ino: number, birthtime: Date | undefined) => {
    if (known?.ino !== ino) known = { ino, at: birthtime ?? deps.clock() };
    return known.at;
  };

  const failure = (what: string, cause?: unknown) =>
    new UpstreamError(`file audit sink "${settings.name}": ${what}`, { retryable: true, cause });

  type LastRecord = { seq: number; hash: string | undefined };
  const lastRecordOf = async (file: string, cutPartial: boolean): Promise<LastRecord | undefined> => {
    const handle = await open(file, "r");
    let tail: Awaited<ReturnType<typeof readTail>>;
    try {
      tail = await readTail(handle, (await handle.stat()).size);
    } finally {
      await handle.close();
    }
    if (tail.partialFrom !== undefined && cutPartial) await truncate(file, tail.partialFrom);
    if (tail.lastLine === undefined) return undefined;
    const record = recordOfLine(tail.lastLine);
    if (record === undefined) {
      throw failure(`the last line of ${file} is not a Leasehold audit record; move the file aside`);
    }
    return record;
  };

  /** The newest record on disk: the current file's last, else the newest rotated file's; undefined: none. */
  const lastOnDisk = async (): Promise<LastRecord | undefined> => {
    const current = await stat(path).catch(() => undefined);
    const inCurrent = current ? await lastRecordOf(path, true) : undefined;
    if (inCurrent !== undefined) return inCurrent;
    const newest = (await rotatedFilesOf(path)).at(-1);
    return newest === undefined ? undefined : lastRecordOf(join(dir, newest), false);
  };

  /**
   * The file's newest event must be the trail's event of that seq. When it is not, the trail was
   * rewritten or restored from an older backup since the file got it: appending would splice two
   * histories, so the sink refuses (and the outage alert names it) until someone looks.
   */
  const checkSameHistory = (last: LastRecord | undefined, events: readonly AuditEvent[]) => {
    const same = last && events.find((event) => event.seq === last.seq);
    if (same && last.hash !== undefined && last.hash !== same.hash) {
      throw new UpstreamError(
        `file audit sink "${settings.name}": event ${last.seq} in ${path} differs from the trail's (the trail was rewritten or restored); run leasehold audit verify`,
        { retryable: false },
      );
    }
  };

  const append = async (text: string) => {
    const existed = await stat(path).catch(() => undefined);
    const handle = await open(path, "a");
    try {
      if (!existed) known = { ino: (await handle.stat()).ino, at: deps.clock() };
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
        const last = await lastOnDisk();
        checkSameHistory(last, events);
        const fresh = events.filter((event) => event.seq > (last?.seq ?? 0));
        if (fresh.length === 0) return;
        await rotateIfDue(path, rotate, deps.clock(), bornAt);
        await append(fresh.map((event) => `${JSON.stringify(recordOf(format, event))}\n`).join(""));
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        // The system's message (ENOSPC, EACCES) names the path at most; there is no secret in a file sink.
        throw failure((error as Error).message, error);
      }
    },
  };
}
