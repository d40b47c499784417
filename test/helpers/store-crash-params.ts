// Shape of the synthetic chain the store crash test and its child process share.

export const CRASH_CHAIN = Object.freeze({ seed: 20260101, blocks: 48, spends: 60, creates: 90 });
