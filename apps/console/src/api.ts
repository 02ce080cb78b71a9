import type { AppRouter } from "@leasehold/api/router";

/** The API's router type: every call the console makes is typed from it. */
export type { AppRouter };
