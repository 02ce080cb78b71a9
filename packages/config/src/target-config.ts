import {
  type AwsRoleTarget,
  awsRoleTargetSchema,
  type SqlTarget,
  sqlTargetSchema,
  type VaultTarget,
  vaultTargetSchema,
} from "@leasehold/providers/schemas";
import { z } from "zod";

/**
 * A target as written in leasehold.yaml: one of the kinds the providers define, each with the common
 * fields (domain's policy) and its own settings block. Adding a kind is adding its provider's schema here.
 */
export const targetConfigSchema = z.discriminatedUnion("kind", [
  awsRoleTargetSchema,
  vaultTargetSchema,
  sqlTargetSchema,
]);

/** A configured target, typed by its kind. */
export type TargetConfig = AwsRoleTarget | VaultTarget | SqlTarget;
