/* wdt-standin - a watchdog device stand-in that really observes pings.
 *
 * It creates a FIFO where the daemon expects the watchdog device. The
 * watchdog ioctls fail with ENOTTY on a FIFO, so the daemon falls back to
 * writing one byte per ping, and "V" before a deliberate close (the Linux
 * magic close). The stand-in logs every event on the CLOCK_MONOTONIC clock
 * and declares a RESET when an armed "device" goes --timeout seconds without
 * a ping, which is what a real board would do.
 *
 * Usage: wdt-standin --device PATH --timeout SEC [--log FILE] [--human]
 *                    [--exit-after-reset] [--duration SEC]
 *
 * Log lines (one per event, flushed at once):
 *   <t> READY timeout=<sec>
 *   <t> PING gap=<sec>|-
 *   <t> MAGIC
 *   <t> CLOSE magic=yes|no
 *   <t> RESET gap=<sec>
 *
 * Exit status: 0 on --duration, --exit-after-reset, SIGTERM/SIGINT/SIGHUP;
 * 1 on a runtime error; 2 on bad arguments or setup failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_SEC ((int64_t)1000000000)
/* Keeps seconds-to-nanoseconds conversion far away from int64 overflow. */
#define MAX_SECONDS 1e9

struct options {
	const char *device;
	const char *log_path;
	int64_t timeout_ns;
	int64_t duration_ns; /* 0: run until signalled */
	bool human;
	bool exit_after_reset;
};

struct standin {
	struct options opt;
	FILE *log;
	int fd;
	int64_t start_ns;
	int64_t last_ping_ns;
	bool have_ping;
	bool armed;
	bool magic_armed;
	bool log_failed;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Truncates to microseconds, matching tests/tools/monotime.c. */
static const char *format_seconds(char *buf, size_t size, int64_t ns)
{
	snprintf(buf, size, "%" PRId64 ".%06" PRId64,
		 ns / NSEC_PER_SEC, (ns % NSEC_PER_SEC) / 1000);
	return buf;
}

static double to_seconds(int64_t ns)
{
	return (double)ns / (double)NSEC_PER_SEC;
}

__attribute__((format(printf, 3, 4)))
static void log_event(struct standin *st, int64_t now, const char *fmt, ...)
{
	char stamp[32];
	va_list ap;

	fprintf(st->log, "%s ", format_seconds(stamp, sizeof(stamp), now));
	va_start(ap, fmt);
	vfprintf(st->log, fmt, ap);
	va_end(ap);
	fputc('\n', st->log);
	if (fflush(st->log) != 0 || ferror(st->log))
		st->log_failed = true;
}

__attribute__((format(printf, 3, 4)))
static void say(const struct standin *st, int64_t now, const char *fmt, ...)
{
	va_list ap;

	if (!st->opt.human)
		return;
	printf("[%5.1fs] watchdog: ", to_seconds(now - st->start_ns));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- argument parsing ------------------------------------------------- */

static int parse_seconds(const char *text, int64_t *ns)
{
	char *end;
	double sec;

	errno = 0;
	sec = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !isfinite(sec))
		return -EINVAL;
	if (sec <= 0 || sec > MAX_SECONDS)
		return -ERANGE;
	*ns = (int64_t)(sec * (double)NSEC_PER_SEC + 0.5);
	return *ns > 0 ? 0 : -ERANGE;
}

static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage: wdt-standin --device PATH --timeout SEC [--log FILE] [--human]\n"
		"                   [--exit-after-reset] [--duration SEC]\n");
}

static int parse_seconds_option(const char *name, const char *text, int64_t *ns)
{
	int err = parse_seconds(text, ns);

	if (err == -EINVAL)
		fprintf(stderr, "wdt-standin: --%s: '%s' is not a number of seconds\n",
			name, text);
	else if (err == -ERANGE)
		fprintf(stderr, "wdt-standin: --%s: '%s' must be > 0 and <= %.0f seconds\n",
			name, text, MAX_SECONDS);
	return err;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },
		{ "human", no_argument, NULL, 'H' },
		{ "exit-after-reset", no_argument, NULL, 'x' },
		{ "duration", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opt = (struct options){ 0 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': opt->device = optarg; break;
		case 'l': opt->log_path = optarg; break;
		case 'H': opt->human = true; break;
		case 'x': opt->exit_after_reset = true; break;
		case 't':
			if (parse_seconds_option("timeout", optarg, &opt->timeout_ns) < 0)
				return -EINVAL;
			break;
		case 'D':
			if (parse_seconds_option("duration", optarg, &opt->duration_ns) < 0)
				return -EINVAL;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		default:
			print_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wdt-standin: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!opt->device || !opt->device[0] || opt->timeout_ns == 0) {
		fprintf(stderr, "wdt-standin: --device PATH and --timeout SEC are required\n");
		print_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* ---- the FIFO --------------------------------------------------------- */

/* Only FIFOs and regular files count as stale: a mistyped --device must
 * never delete a real device node such as /dev/watchdog. */
static int remove_stale(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISFIFO(sb.st_mode) && !S_ISREG(sb.st_mode))
		return -EEXIST;
	return unlink(path) == 0 ? 0 : -errno;
}

static int create_fifo(const char *path)
{
	int err = remove_stale(path);

	if (err == -EEXIST) {
		fprintf(stderr, "wdt-standin: refusing to replace %s: "
			"it exists and is not a FIFO or regular file\n", path);
		return err;
	}
	if (err < 0) {
		fprintf(stderr, "wdt-standin: cannot remove stale %s: %s\n",
			path, strerror(-err));
		return err;
	}
	if (mkfifo(path, 0600) != 0) {
		err = -errno;
		fprintf(stderr, "wdt-standin: mkfifo %s: %s\n", path, strerror(-err));
		return err;
	}
	return 0;
}

static int open_read_end(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	return fd >= 0 ? fd : -errno;
}

/* Linux keeps flagging POLLHUP on a read end whose writers have gone, so
 * poll() would spin; a fresh read end starts clean. The new end is opened
 * before the old one is closed so the FIFO never lacks a reader: a daemon
 * that reopens right now neither blocks nor loses a ping to EPIPE. */
static int reopen_read_end(struct standin *st)
{
	int fd = open_read_end(st->opt.device);

	if (fd < 0)
		return fd;
	close(st->fd);
	st->fd = fd;
	return 0;
}

/* ---- events ----------------------------------------------------------- */

static void record_ping(struct standin *st, int64_t now)
{
	st->have_ping = true;
	st->armed = true;
	st->last_ping_ns = now;
}

static void on_ping(struct standin *st, int64_t now)
{
	char gap[32];
	bool was_armed = st->armed;

	st->magic_armed = false;
	if (!st->have_ping) {
		log_event(st, now, "PING gap=-");
		say(st, now, "first ping - armed");
	} else {
		int64_t gap_ns = now - st->last_ping_ns;

		log_event(st, now, "PING gap=%s",
			  format_seconds(gap, sizeof(gap), gap_ns));
		say(st, now, "ping (%.2f s since the last one)%s",
		    to_seconds(gap_ns), was_armed ? "" : " - armed again");
	}
	record_ping(st, now);
}

static void on_magic(struct standin *st, int64_t now)
{
	log_event(st, now, "MAGIC");
	say(st, now, "magic 'V' - will disarm on close");
	st->magic_armed = true;
	/* Any write is a keepalive for the kernel, 'V' included. */
	record_ping(st, now);
}

static void on_close(struct standin *st, int64_t now)
{
	log_event(st, now, "CLOSE magic=%s", st->magic_armed ? "yes" : "no");
	if (st->magic_armed)
		say(st, now, "magic close - disarmed");
	else if (st->armed)
		say(st, now, "device closed without magic close - still armed");
	else
		say(st, now, "device closed (was not armed)");
	if (st->magic_armed)
		st->armed = false;
	/* The next opener starts a new session, as with the kernel driver. */
	st->magic_armed = false;
}

static void on_byte(struct standin *st, char c, int64_t now)
{
	if (c == 'V')
		on_magic(st, now);
	else
		on_ping(st, now);
}

/* Reads everything available. Returns 0, or negative errno. */
static int drain_fifo(struct standin *st)
{
	char buf[256];

	for (;;) {
		ssize_t n = read(st->fd, buf, sizeof(buf));
		int64_t now = monotonic_ns();

		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				on_byte(st, buf[i], now);
			continue;
		}
		if (n == 0) {
			on_close(st, now);
			return reopen_read_end(st);
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
}

/* Returns true when a RESET was declared. */
static bool check_expiry(struct standin *st, int64_t now)
{
	char gap[32];
	int64_t gap_ns;

	if (!st->armed || now - st->last_ping_ns < st->opt.timeout_ns)
		return false;
	gap_ns = now - st->last_ping_ns;
	log_event(st, now, "RESET gap=%s", format_seconds(gap, sizeof(gap), gap_ns));
	say(st, now, "NO PING FOR %.1f s - a real board would reset now",
	    to_seconds(gap_ns));
	st->armed = false;
	return true;
}

/* ---- main loop -------------------------------------------------------- */

/* Nanoseconds until the next reset deadline or --duration end; -1: none. */
static int64_t time_to_next_deadline(const struct standin *st, int64_t now)
{
	int64_t deadline = INT64_MAX;

	if (st->armed)
		deadline = st->last_ping_ns + st->opt.timeout_ns;
	if (st->opt.duration_ns > 0 && st->start_ns + st->opt.duration_ns < deadline)
		deadline = st->start_ns + st->opt.duration_ns;
	if (deadline == INT64_MAX)
		return -1;
	return deadline > now ? deadline - now : 0;
}

static int wait_for_input(struct standin *st, int64_t wait_ns,
			  const sigset_t *run_mask)
{
	struct pollfd pfd = { .fd = st->fd, .events = POLLIN };
	struct timespec ts = {
		.tv_sec = wait_ns / NSEC_PER_SEC,
		.tv_nsec = wait_ns % NSEC_PER_SEC,
	};
	int n = ppoll(&pfd, 1, wait_ns >= 0 ? &ts : NULL, run_mask);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n > 0 && (pfd.revents & POLLNVAL))
		return -EBADF;
	if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		return drain_fifo(st);
	return 0;
}

static int run_loop(struct standin *st, const sigset_t *run_mask)
{
	for (;;) {
		int64_t now = monotonic_ns();
		int err;

		if (stop_requested)
			return 0;
		if (st->opt.duration_ns > 0 && now - st->start_ns >= st->opt.duration_ns)
			return 0;
		if (check_expiry(st, now) && st->opt.exit_after_reset)
			return st->log_failed ? -EIO : 0;
		if (st->log_failed)
			return -EIO;
		err = wait_for_input(st, time_to_next_deadline(st, now), run_mask);
		if (err < 0)
			return err;
	}
}

/* Signals stay blocked except inside ppoll(), so a SIGTERM can never slip
 * in between checking stop_requested and going to sleep. */
static void install_signal_handlers(sigset_t *run_mask)
{
	static const int stop_signals[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		sigaction(stop_signals[i], &sa, NULL);
		sigaddset(&block, stop_signals[i]);
	}
	sigprocmask(SIG_BLOCK, &block, run_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigdelset(run_mask, stop_signals[i]);
}

static int open_log(struct standin *st)
{
	if (!st->opt.log_path) {
		st->log = stdout;
		return 0;
	}
	st->log = fopen(st->opt.log_path, "we");
	if (!st->log) {
		int err = -errno;

		fprintf(stderr, "wdt-standin: cannot open log %s: %s\n",
			st->opt.log_path, strerror(-err));
		return err;
	}
	return 0;
}

static int start(struct standin *st)
{
	char timeout[32];
	int fd;

	fd = open_read_end(st->opt.device);
	if (fd < 0) {
		fprintf(stderr, "wdt-standin: cannot open FIFO %s: %s\n",
			st->opt.device, strerror(-fd));
		return fd;
	}
	st->fd = fd;
	st->start_ns = monotonic_ns();
	log_event(st, st->start_ns, "READY timeout=%s",
		  format_seconds(timeout, sizeof(timeout), st->opt.timeout_ns));
	say(st, st->start_ns, "stand-in ready on %s, timeout %.1f s",
	    st->opt.device, to_seconds(st->opt.timeout_ns));
	return st->log_failed ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct standin st = { .fd = -1 };
	sigset_t run_mask;
	int status;
	int err;

	if (parse_options(argc, argv, &st.opt) < 0)
		return 2;
	if (open_log(&st) < 0)
		return 2;
	install_signal_handlers(&run_mask);
	if (create_fifo(st.opt.device) < 0)
		return 2;

	err = start(&st);
	if (err < 0) {
		status = 2;
	} else {
		err = run_loop(&st, &run_mask);
		status = err < 0 ? 1 : 0;
		if (err < 0)
			fprintf(stderr, "wdt-standin: %s: %s\n", st.opt.device,
				err == -EIO ? "cannot write the log" : strerror(-err));
	}
	if (st.fd >= 0)
		close(st.fd);
	unlink(st.opt.device);
	if (st.log != stdout)
		fclose(st.log);
	return status;
}
