/* monotime - print CLOCK_MONOTONIC as "<seconds>.<6 decimals>\n".
 *
 * Same clock and format as wdt-standin's log, so a shell test can timestamp
 * its own actions and compare them with the stand-in's events. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>

int main(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		fprintf(stderr, "monotime: clock_gettime(CLOCK_MONOTONIC): %s\n",
			strerror(errno));
		return 1;
	}
	/* Truncate to microseconds exactly like wdt-standin does. */
	printf("%" PRId64 ".%06ld\n", (int64_t)ts.tv_sec, ts.tv_nsec / 1000);
	return fflush(stdout) == 0 ? 0 : 1;
}
