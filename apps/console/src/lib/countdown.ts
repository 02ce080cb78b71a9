/**
 * Time left until an instant, as people read it: "1h 05m 03s", "4m 09s", "12s"; "expired" at or
 * after the deadline. `now` is passed in so that the function is pure.
 */
export function formatCountdown(expiresAt: string | null, now: number): string {
  if (!expiresAt) return "not issued yet";
  const deadline = Date.parse(expiresAt);
  if (Number.isNaN(deadline)) return "unknown";
  const left = Math.floor((deadline - now) / 1000);
  if (left <= 0) return "expired";
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (hours > 0) return `${hours}h ${two(minutes)}m ${two(seconds)}s`;
  if (minutes > 0) return `${minutes}m ${two(seconds)}s`;
  return `${seconds}s`;
}

/** A duration in seconds as "45m", "2h", "1h 30m", "20s". */
export function formatDurationSeconds(total: number): string {
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const parts = [hours ? `${hours}h` : "", minutes ? `${minutes}m` : "", seconds ? `${seconds}s` : ""];
  return parts.filter(Boolean).join(" ") || "0s";
}
