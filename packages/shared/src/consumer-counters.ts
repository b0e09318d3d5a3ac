/** What a consumer has done since it was created. */
export interface ConsumerCounters {
  /** Handler resolved true; the entry was acknowledged. */
  handled: number;
  /** Entries of a type this group does not handle, acknowledged unseen. */
  skipped: number;
  /** Failed attempts that were (or will be, after a restart) retried. */
  retried: number;
  deadLettered: number;
  /** Pending entries found deleted from the stream (XDEL, trimming), cleaned out. */
  deletedWhilePending: number;
  /** Entries claimed from other consumers after claimIdleMs. */
  claimed: number;
  /** Times the consumer group was found missing and re-created. */
  groupsRecreated: number;
}

/** All counters at zero. */
export function zeroCounters(): ConsumerCounters {
  return {
    handled: 0,
    skipped: 0,
    retried: 0,
    deadLettered: 0,
    deletedWhilePending: 0,
    claimed: 0,
    groupsRecreated: 0,
  };
}
