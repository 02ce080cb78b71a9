import type { ReactNode } from "react";
import { errorMessage, stepUpTargetId } from "../lib/api-error.js";
import { loginUrl } from "../lib/routes.js";

/** A failed call, announced to screen readers; a step-up refusal says how to sign in again. */
export function ErrorAlert({ error, returnTo }: { readonly error: unknown; readonly returnTo?: string }) {
  if (!error) return null;
  const stepUp = stepUpTargetId(error);
  return (
    <div role="alert" className="alert alert-error">
      <p>{errorMessage(error)}</p>
      {stepUp && (
        <p>
          This target needs a fresh sign-in.{" "}
          <a href={loginUrl(returnTo ?? window.location.pathname + window.location.search, stepUp)}>
            Sign in again to continue
          </a>
        </p>
      )}
    </div>
  );
}

/** A success or information message, read out politely. */
export function Notice({ children }: { readonly children: ReactNode }) {
  return (
    <div role="status" className="alert alert-info">
      {children}
    </div>
  );
}

type QueryLike = { readonly isPending: boolean; readonly error: unknown };

/** Loading and error states of a query; renders `children` only once there is data. */
export function QueryState({
  query,
  label,
  children,
}: {
  readonly query: QueryLike;
  readonly label: string;
  readonly children: ReactNode;
}) {
  if (query.error) return <ErrorAlert error={query.error} />;
  if (query.isPending)
    return (
      <p className="muted" role="status">
        Loading {label}…
      </p>
    );
  return <>{children}</>;
}
