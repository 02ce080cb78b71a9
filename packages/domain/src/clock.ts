/** The current time, injected everywhere so that domain code never reads the wall clock itself. */
export type Clock = () => Date;

/** The process's wall clock; wired in each app's main.ts. */
export const systemClock: Clock = () => new Date();

/** Adds whole seconds to an instant. */
export const addSeconds = (at: Date, seconds: number): Date => new Date(at.getTime() + seconds * 1000);
