/*
 * clock: the time in milliseconds, for every module and tool: the
 * monotonic clock for intervals, deadlines and budgets (never stepped), the
 * wall clock for what a user reads or a schedule names (it may be stepped).
 * No module reads clock_gettime(2) itself; code that must be tested on a
 * fake clock takes the time as a parameter instead.
 */
#ifndef COINPIPE_CLOCK_H
#define COINPIPE_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC: only differences mean anything. */
long long clock_mono_ms(void);

/* Milliseconds since the epoch on CLOCK_REALTIME. */
long long clock_wall_ms(void);

#endif
