/**
 * CLOCK_MONOTONIC in ms (sub-ms precision): one clock for every process on the machine, so two
 * processes' stamps subtract exactly. `performance.timeOrigin + performance.now()` does not:
 * timeOrigin pairs a wall-clock read with a monotonic one at the process's start, and a start
 * preempted between the two reads (under load) shifts all its stamps; one Node process in 60
 * started beside six busy loops was 6 ms off, and the paced floor's test once saw a transaction
 * end 6.76 ms before it was asked for.
 */
export const monotonicNow = (): number => Number(process.hrtime.bigint()) / 1e6;
