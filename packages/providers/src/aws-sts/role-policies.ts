import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  type ListRolePoliciesCommandOutput,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { toAwsError } from "./aws-errors.js";
import { roleNameOf } from "./deny-policy.js";

/** SDK call options that forward the worker's abort signal, when there is one. */
export const abortable = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});

const isNoSuchEntity = (error: unknown) =>
  (error as Error).name === "NoSuchEntityException" || (error as Error).name === "NoSuchEntity";

/** A role's inline policies through IAM, each call's failure an UpstreamError naming the role. */
export function rolePolicies(iam: IAMClient, roleArn: string, signal?: AbortSignal) {
  const RoleName = roleNameOf(roleArn);
  const call = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw toAwsError(error, `IAM ${what} on ${roleArn}`);
    }
  };
  return {
    /** Every inline policy name of the role (all pages). */
    async names(): Promise<string[]> {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const page: ListRolePoliciesCommandOutput = await call("ListRolePolicies", () =>
          iam.send(
            new ListRolePoliciesCommand({ RoleName, ...(marker !== undefined ? { Marker: marker } : {}) }),
            abortable(signal),
          ),
        );
        names.push(...(page.PolicyNames ?? []));
        marker = page.IsTruncated === true ? page.Marker : undefined;
      } while (marker !== undefined);
      return names;
    },

    /** A policy's document (IAM returns it URL-encoded), or undefined when there is none by that name. */
    async get(PolicyName: string): Promise<string | undefined> {
      try {
        const answer = await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }), abortable(signal));
        return answer.PolicyDocument === undefined ? undefined : decodeURIComponent(answer.PolicyDocument);
      } catch (error) {
        if (isNoSuchEntity(error)) return undefined;
        throw toAwsError(error, `IAM GetRolePolicy on ${roleArn}`);
      }
    },

    async put(PolicyName: string, PolicyDocument: string): Promise<void> {
      await call("PutRolePolicy", () =>
        iam.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument }), abortable(signal)),
      );
    },

    /** Deletes a policy; one already gone is fine. */
    async delete(PolicyName: string): Promise<void> {
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }), abortable(signal));
      } catch (error) {
        if (isNoSuchEntity(error)) return;
        throw toAwsError(error, `IAM DeleteRolePolicy on ${roleArn}`);
      }
    },
  };
}
