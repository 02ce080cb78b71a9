import { type MouseEvent, type ReactNode, useSyncExternalStore } from "react";
import { isLocalPath } from "./lib/routes.js";

/** A tiny History API router: the current location as React state, and links that do not reload. */
const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

const snapshot = () => `${window.location.pathname}${window.location.search}`;

/** The current path and query string, e.g. "/approvals?request=…". */
export const useLocationKey = () => useSyncExternalStore(subscribe, snapshot);

export function navigate(to: string) {
  if (!isLocalPath(to)) return;
  window.history.pushState(null, "", to);
  for (const listener of listeners) listener();
}

type LinkProps = {
  readonly to: string;
  readonly children: ReactNode;
  readonly className?: string;
  readonly current?: boolean;
};

/** An ordinary link (works with a new tab, middle click, keyboard) that navigates in place on a plain click. */
export function Link({ to, children, className, current }: LinkProps) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className} aria-current={current ? "page" : undefined}>
      {children}
    </a>
  );
}
