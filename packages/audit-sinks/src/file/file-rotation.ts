import { open, readdir, rename, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { FileAuditSinkSettings } from "./file-sink-schema.js";

/** `20261206T012000123Z`: sorts as it happened, and is safe in a file name on every system. */
const stampOf = (at: Date) => at.toISOString().replace(/[-:.]/g, "");
const ROTATED = /^\d{8}T\d{9}Z(?:-\d+)?$/;

/** Makes a rename or a new file in `dir` durable: without it, a crash could lose the directory entry. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The rotated files of `path` (names in its directory), oldest first. */
export async function rotatedFilesOf(path: string): Promise<string[]> {
  const base = basename(path);
  return (await readdir(dirname(path)))
    .filter((f) => f.startsWith(`${base}.`) && ROTATED.test(f.slice(base.length + 1)))
    .sort();
}

/**
 * Renames the current file to `<path>.<stamp>` once it is as big or as old as `rotate` allows; the
 * next append creates a new one. `bornAt` says since when the file (by inode) exists, as far as the
 * sink knows: its birth time where the file system keeps one.
 */
export async function rotateIfDue(
  path: string,
  rotate: FileAuditSinkSettings["rotate"],
  now: Date,
  bornAt: (ino: number, birthtime: Date | undefined) => Date,
): Promise<void> {
  const current = await stat(path).catch(() => undefined);
  if (!current || current.size === 0) return;
  const born = bornAt(current.ino, current.birthtimeMs > 0 ? current.birthtime : undefined);
  const tooBig = rotate.maxBytes !== undefined && current.size >= rotate.maxBytes;
  const tooOld = rotate.maxAge !== undefined && now.getTime() - born.getTime() >= rotate.maxAge * 1000;
  if (!tooBig && !tooOld) return;
  const taken = new Set(await rotatedFilesOf(path));
  const base = basename(path);
  let name = `${base}.${stampOf(now)}`;
  for (let n = 1; taken.has(name); n += 1) name = `${base}.${stampOf(now)}-${n}`;
  await rename(path, join(dirname(path), name));
  await fsyncDirectory(dirname(path));
}
