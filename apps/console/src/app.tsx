import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Layout, SignedOut } from "./components/layout.js";
import { httpStatus } from "./lib/api-error.js";
import { matchRoute, type Route } from "./lib/routes.js";
import { useLocationKey } from "./navigation.js";
import { AdminPage } from "./pages/admin-page.js";
import { ApprovalsPage } from "./pages/approvals-page.js";
import { AuditPage } from "./pages/audit-page.js";
import { GrantPage } from "./pages/grant-page.js";
import { MyAccessPage } from "./pages/my-access-page.js";
import { RequestPage } from "./pages/request-page.js";
import { SlackPage } from "./pages/slack-page.js";
import { fetchSession, type Session, type SessionState } from "./session.js";
import { createApiClient, TRPCProvider } from "./trpc.js";

/** The console: reads the session once, then renders the page for the current path. */
export function App() {
  const [state, setState] = useState<SessionState | null>(null);
  const location = useLocationKey();
  useEffect(() => {
    void fetchSession().then(setState);
  }, []);
  if (!state) return <p role="status">Loading…</p>;
  if (state.status === "signed-out") return <SignedOut reason={state.reason} returnTo={location} />;
  if (state.status === "error") {
    return (
      <main id="main" className="content narrow">
        <h1>Leasehold</h1>
        <p role="alert">{state.message}</p>
      </main>
    );
  }
  const ended = () => setState({ status: "signed-out", reason: "your session ended" });
  return <SignedIn session={state.session} location={location} onSessionEnded={ended} />;
}

/** A client whose calls, when the API no longer knows the session (401), send the person to sign in. */
function createQueryClient(onSessionEnded: () => void) {
  const onError = (error: unknown) => {
    if (httpStatus(error) === 401) onSessionEnded();
  };
  return new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        retry: (count, error) => httpStatus(error) === null && count < 1,
        refetchOnWindowFocus: true,
      },
    },
  });
}

type SignedInProps = {
  readonly session: Session;
  readonly location: string;
  readonly onSessionEnded: () => void;
};

function SignedIn({ session, location, onSessionEnded }: SignedInProps) {
  const [queryClient] = useState(() => createQueryClient(onSessionEnded));
  const [client] = useState(() => createApiClient(session.csrfToken));
  const url = new URL(location, window.location.origin);
  const route = matchRoute(url.pathname, url.search);
  useFocusOnNavigation(url.pathname);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={client} queryClient={queryClient}>
        <Layout session={session} path={url.pathname}>
          <Page route={route} />
        </Layout>
      </TRPCProvider>
    </QueryClientProvider>
  );
}

/** After a client-side navigation, focus moves to the new page's content (as a page load would). */
function useFocusOnNavigation(path: string) {
  const first = useRef(true);
  useEffect(() => {
    document.title = `${document.querySelector("h1")?.textContent ?? "Leasehold"} · Leasehold`;
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus();
  }, [path]);
}

function Page({ route }: { readonly route: Route }) {
  switch (route.name) {
    case "my-access":
      return <MyAccessPage />;
    case "request":
      return <RequestPage />;
    case "approvals":
      return <ApprovalsPage highlight={route.requestId} />;
    case "grant":
      return <GrantPage key={route.grantId} grantId={route.grantId} />;
    case "audit":
      return <AuditPage />;
    case "admin":
      return <AdminPage />;
    case "slack":
      return <SlackPage />;
    case "not-found":
      return (
        <>
          <h1>Page not found</h1>
          <p>There is no page at {route.path}.</p>
        </>
      );
  }
}
