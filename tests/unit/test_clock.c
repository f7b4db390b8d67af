/* test_clock: the one monotonic and wall clock. */
#include <time.h>

#include "clock.h"
#include "tap.h"

int
main(void)
{
	struct timespec ts = { 0, 20 * 1000000L };
	long long m1, m2, w;

	m1 = clock_mono_ms();
	m2 = clock_mono_ms();
	ok(m1 > 0 && m2 >= m1, "monotonic clock does not go back");
	nanosleep(&ts, NULL);
	ok(clock_mono_ms() - m1 >= 20, "a 20 ms sleep shows as 20 ms or more");
	w = clock_wall_ms();
	ok(w > 1700000000000LL, "wall clock in milliseconds since the epoch");
	ok(w / 1000 - (long long)time(NULL) <= 1 &&
	    (long long)time(NULL) - w / 1000 <= 1, "wall clock agrees with "
	    "time()");
	return tap_done();
}
