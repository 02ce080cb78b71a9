import {
  type StackOptions,
  startStack as startTestStack,
  type Stack as TestStack,
} from "@leasehold/test-kit";
import type { AppRouter } from "../src/trpc/app-router.js";

/** The test kit's stack (real API, worker and Slack bot processes), typed with this API's router. */
export type Stack = TestStack<AppRouter>;
export const startStack = (options: StackOptions): Promise<Stack> => startTestStack<AppRouter>(options);
export { eventually } from "@leasehold/test-kit";
