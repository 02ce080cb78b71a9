import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ErrorAlert } from "../components/alerts.js";
import { useTRPC } from "../trpc.js";

/** Withdraws one of my pending requests. */
export function CancelButton({ requestId }: { readonly requestId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const cancel = useMutation(
    trpc.requests.cancel.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.requests.pathFilter()),
    }),
  );
  return (
    <>
      <button
        type="button"
        className="button secondary"
        disabled={cancel.isPending}
        onClick={() => cancel.mutate({ requestId })}
      >
        Cancel request
      </button>
      <ErrorAlert error={cancel.error} />
    </>
  );
}
