import type { ReactNode } from "react";
import { loginUrl } from "../lib/routes.js";
import { Link } from "../navigation.js";
import { type Session, signOut } from "../session.js";

const NAV: readonly { readonly to: string; readonly label: string }[] = [
  { to: "/", label: "My access" },
  { to: "/request", label: "Request access" },
  { to: "/approvals", label: "Approvals" },
  { to: "/audit", label: "Audit trail" },
  { to: "/admin", label: "Administration" },
  { to: "/slack", label: "Slack (local)" },
];

type LayoutProps = { readonly session: Session; readonly path: string; readonly children: ReactNode };

/** The page frame: skip link, banner with the signed-in person and Sign out, main navigation, main content. */
export function Layout({ session, path, children }: LayoutProps) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="banner">
        <span className="brand">Leasehold</span>
        <nav aria-label="Main">
          <ul className="nav-list">
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} className="nav-link" current={path === item.to}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            Signed in as <strong>{session.principal.id}</strong>
          </span>
          <button type="button" className="button secondary" onClick={() => void signOut(session.csrfToken)}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="content">
        {children}
      </main>
    </>
  );
}

/** Shown when there is no session: one link to sign in and come back here. */
export function SignedOut({ reason, returnTo }: { readonly reason: string; readonly returnTo: string }) {
  return (
    <main id="main" className="content narrow">
      <h1>Sign in to Leasehold</h1>
      <p>You are not signed in.</p>
      {reason !== "not signed in" && <p className="muted">The API says: {reason}.</p>}
      <p>
        <a className="button" href={loginUrl(returnTo)}>
          Sign in
        </a>
      </p>
    </main>
  );
}
