import { useMutation } from "@tanstack/react-query";
import { useEffect } from "react";
import { ErrorAlert } from "../components/alerts.js";
import { awsProfileSnippet, credsSnippet, execSnippet } from "../lib/snippets.js";
import { useTRPC } from "../trpc.js";

/**
 * Credentials are fetched only when asked for (a mutation: every read is audited), shown once, and never
 * kept: not in the query cache, and the mutation's result is dropped when this panel goes away
 * (navigation) or the person hides it.
 */
export function CredentialsPanel({
  grantId,
  targetKind,
}: {
  readonly grantId: string;
  readonly targetKind: string;
}) {
  const trpc = useTRPC();
  const credentials = useMutation({ ...trpc.grants.credentials.mutationOptions(), gcTime: 0 });
  const { reset } = credentials;
  useEffect(() => reset, [reset]);
  return (
    <section className="credentials" aria-label="Credentials">
      {credentials.data ? (
        <>
          <p className="muted">
            Shown once; this page does not keep them. Valid until {credentials.data.expiresAt}.
          </p>
          <dl className="secret-list">
            {Object.entries(credentials.data.credential).map(([name, value]) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>
                  <code>{String(value)}</code>
                </dd>
              </div>
            ))}
          </dl>
          <button type="button" className="button secondary" onClick={() => credentials.reset()}>
            Hide credentials
          </button>
        </>
      ) : (
        <button
          type="button"
          className="button"
          disabled={credentials.isPending}
          onClick={() => credentials.mutate({ grantId })}
        >
          Show credentials
        </button>
      )}
      <ErrorAlert error={credentials.error} />
      <Snippets grantId={grantId} targetKind={targetKind} />
    </section>
  );
}

function Snippets({ grantId, targetKind }: { readonly grantId: string; readonly targetKind: string }) {
  const aws = targetKind.startsWith("aws");
  return (
    <details className="snippets">
      <summary>Use from the command line</summary>
      <p>Run one command with the credentials in its environment only:</p>
      <pre>
        <code>{execSnippet(grantId, aws ? "aws sts get-caller-identity" : "<command>")}</code>
      </pre>
      <p>Or export them into this shell (every read is audited):</p>
      <pre>
        <code>{credsSnippet(grantId)}</code>
      </pre>
      {aws && (
        <>
          <p>Or add a profile to ~/.aws/config:</p>
          <pre>
            <code>{awsProfileSnippet(grantId)}</code>
          </pre>
        </>
      )}
    </details>
  );
}
