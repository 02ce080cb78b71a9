import { useEffect, useState } from "react";
import { formatCountdown } from "../lib/countdown.js";

/** The current time, refreshed every second while the component is shown. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * Time left on a grant, updated every second. The visible text changes each second, so it is not a live
 * region (a screen reader would announce it continuously); the deadline itself is in the `dateTime`.
 */
export function Countdown({ expiresAt }: { readonly expiresAt: string | null }) {
  const now = useNow();
  return (
    <time className="countdown" dateTime={expiresAt ?? undefined} title={expiresAt ?? undefined}>
      {formatCountdown(expiresAt, now)}
    </time>
  );
}
