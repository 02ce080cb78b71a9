import type { FileHandle } from "node:fs/promises";

const CHUNK = 64 * 1024;
/** A last line longer than this is not a record Leasehold wrote. */
const MAX_LINE = 16 * 1024 * 1024;

export type FileTail = {
  /** The last line that ends with a newline, without it; undefined when there is none. */
  readonly lastLine: string | undefined;
  /** Where a final line without its newline starts (a write cut short by a crash); undefined when none. */
  readonly partialFrom: number | undefined;
};

/**
 * Reads a JSON-lines file backwards from its end, only as far as its last complete line: the file
 * sink learns the last `seq` it holds without reading the whole file.
 */
export async function readTail(file: FileHandle, size: number): Promise<FileTail> {
  let buffer = Buffer.alloc(0);
  let start = size;
  for (;;) {
    const from = Math.max(0, start - CHUNK);
    const chunk = Buffer.alloc(start - from);
    await file.read(chunk, 0, chunk.length, from);
    buffer = Buffer.concat([chunk, buffer]);
    start = from;
    const found = locate(buffer, start, size);
    if (found) return found;
    if (size - start > MAX_LINE) throw new Error("its last line is longer than any record Leasehold writes");
  }
}

/** The tail, if `buffer` (the file from offset `start` to its end) holds enough of it to tell. */
function locate(buffer: Buffer, start: number, size: number): FileTail | undefined {
  const lastNewline = buffer.lastIndexOf(0x0a);
  if (lastNewline === -1) {
    // No complete line yet: either the whole file is one partial line, or read further back.
    return start === 0 ? { lastLine: undefined, partialFrom: size > 0 ? 0 : undefined } : undefined;
  }
  const partialFrom = start + lastNewline + 1 < size ? start + lastNewline + 1 : undefined;
  const before = lastNewline === 0 ? -1 : buffer.lastIndexOf(0x0a, lastNewline - 1);
  if (before === -1 && start > 0) return undefined;
  return { lastLine: buffer.subarray(before + 1, lastNewline).toString("utf8"), partialFrom };
}

/** What a record line says of its event: `seq` and `hash` (top level in JSON, `metadata`/`unmapped` in OCSF). */
export function recordOfLine(line: string): { seq: number; hash: string | undefined } | undefined {
  try {
    const record = JSON.parse(line) as {
      seq?: unknown;
      hash?: unknown;
      metadata?: { sequence?: unknown };
      unmapped?: { hash?: unknown };
    };
    const seq = record.seq ?? record.metadata?.sequence;
    const hash = record.hash ?? record.unmapped?.hash;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq <= 0) return undefined;
    return { seq, hash: typeof hash === "string" ? hash : undefined };
  } catch {
    return undefined;
  }
}
