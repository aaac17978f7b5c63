/* SPDX-License-Identifier: MIT */
/* The floor under `make bench`'s steady state: what the same ten probes cost with no supervisor
 * around them. One sd-event timer on a 1 s grid, and in each tick the system calls each check
 * kind needs at the least, in line and blocking: the watchdog write, stat() of the heartbeat, a
 * TCP connect, an HTTP GET on a new connection, the unix PING/PONG, the pidfile and /proc/PID,
 * /proc/loadavg, /proc/meminfo, statvfs(), /proc/sys/fs/file-nr, and one read of a subscribed
 * rtnetlink socket (the link check's steady state). The bench measures it as it measures the
 * daemon: what healthdog costs beyond this is its own.
 *
 * Usage: bench-floor DEVICE DIR TCP-PORT HTTP-PORT. Runs until killed; exits 1 when a probe
 * fails (the bench then has no floor to show). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

static const char *dir;
static int wdt_fd = -1, nl_fd = -1;
static struct sockaddr_in tcp_addr, http_addr;
static struct sockaddr_un unix_addr = { .sun_family = AF_UNIX };

static void die(const char *what) {
        fprintf(stderr, "bench-floor: %s: %s\n", what, strerror(errno));
        exit(1);
}

static int read_file(const char *path, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

/* Connects, sends req (if any) and reads until the peer closes or a line ends. */
static int exchange(int family, const void *addr, socklen_t len, const char *req, char *buf, size_t size) {
        struct timeval tv = { .tv_sec = 1 };
        size_t got = 0;
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, addr, len) < 0)
                goto fail;
        if (req && send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
                goto fail;
        while (req && got < size - 1) {
                ssize_t n = read(fd, buf + got, size - 1 - got);
                if (n < 0)
                        goto fail;
                got += (size_t) n;
                if (n == 0 || (family == AF_UNIX && memchr(buf + got - n, '\n', (size_t) n)))
                        break;
        }
        if (buf)
                buf[got] = '\0';
        close(fd);
        return 0;
fail:
        if (fd >= 0)
                close(fd);
        return -1;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        char path[4096], buf[4096];
        struct statvfs sv;
        struct stat st;
        int pid;

        if (write(wdt_fd, "1", 1) != 1)
                die("watchdog write");
        snprintf(path, sizeof(path), "%s/alive", dir);
        if (stat(path, &st) < 0)
                die(path);
        if (exchange(AF_INET, &tcp_addr, sizeof(tcp_addr), NULL, NULL, 0) < 0)
                die("tcp");
        if (exchange(AF_INET, &http_addr, sizeof(http_addr),
                     "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", buf, sizeof(buf)) < 0 ||
            !strstr(buf, " 200 "))
                die("http");
        if (exchange(AF_UNIX, &unix_addr, sizeof(unix_addr), "PING\n", buf, sizeof(buf)) < 0 ||
            strncmp(buf, "PONG", 4) != 0)
                die("unix");
        snprintf(path, sizeof(path), "%s/app.pid", dir);
        if (read_file(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%d", &pid) != 1)
                die(path);
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        if (read_file(path, buf, sizeof(buf)) < 0 || read_file("/proc/loadavg", buf, sizeof(buf)) < 0 ||
            read_file("/proc/meminfo", buf, sizeof(buf)) < 0 || read_file("/proc/sys/fs/file-nr", buf, sizeof(buf)) < 0)
                die("/proc");
        if (statvfs(dir, &sv) < 0)
                die("statvfs");
        if (recv(nl_fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno != EAGAIN)
                die("rtnetlink");

        if (sd_event_source_set_time(s, usec + 1000000) < 0 || sd_event_source_set_enabled(s, SD_EVENT_ON) < 0)
                die("sd-event");
        return 0;
}

int main(int argc, char **argv) {
        struct sockaddr_nl groups = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
        sd_event *e = NULL;
        uint64_t t;

        if (argc != 5) {
                fprintf(stderr, "usage: bench-floor DEVICE DIR TCP-PORT HTTP-PORT\n");
                return 2;
        }
        dir = argv[2];
        tcp_addr = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[3])),
                                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        http_addr = tcp_addr;
        http_addr.sin_port = htons((uint16_t) atoi(argv[4]));
        snprintf(unix_addr.sun_path, sizeof(unix_addr.sun_path), "%s/app.sock", dir);
        wdt_fd = open(argv[1], O_WRONLY | O_CLOEXEC);
        if (wdt_fd < 0)
                die(argv[1]);
        nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (nl_fd < 0 || bind(nl_fd, (struct sockaddr *) &groups, sizeof(groups)) < 0)
                die("rtnetlink");
        if (sd_event_default(&e) < 0 || sd_event_now(e, CLOCK_BOOTTIME, &t) < 0 ||
            sd_event_add_time(e, NULL, CLOCK_BOOTTIME, t + 1000000, 1, on_tick, NULL) < 0)
                die("sd-event");
        return sd_event_loop(e) < 0;
}
