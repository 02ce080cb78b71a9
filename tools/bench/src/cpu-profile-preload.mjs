/**
 * Loaded with `node --import` (through NODE_OPTIONS, which refuses `--cpu-prof` on Node 20): samples
 * the process's CPU with V8's profiler from start to exit and writes `<pid>.cpuprofile` (the format
 * of `node --cpu-prof`, for Chrome DevTools or speedscope) into BENCH_CPU_PROFILE_DIR.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // A session of the main thread answers synchronously, so this works in an exit handler too.
    session.post("Profiler.stop", (error, result) => {
      if (!error) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on("exit", write);
}
