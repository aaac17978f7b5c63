/* SPDX-License-Identifier: MIT */
#include <fcntl.h>

#include "json.h"
#include "update-progress.h"

/* The biggest file is well under 2 KiB. */
#define UPDATE_PROGRESS_MAX (16 * 1024)

static const char *const step_names[_UPDATE_STEP_MAX] = {
        [UPDATE_STEP_CHECKING] = "checking",
        [UPDATE_STEP_PULLING] = "pulling",
        [UPDATE_STEP_PULLED] = "pulled",
        [UPDATE_STEP_DOWNLOADED] = "downloaded",
        [UPDATE_STEP_ARMING] = "arming",
        [UPDATE_STEP_DEPLOYING] = "deploying",
        [UPDATE_STEP_ARMED] = "armed",
        [UPDATE_STEP_REBOOTING] = "rebooting",
        [UPDATE_STEP_FAILED] = "failed",
};

const char *update_step_to_string(UpdateStep s) {
        return s >= 0 && s < _UPDATE_STEP_MAX ? step_names[s] : NULL;
}

UpdateStep update_step_from_string(const char *s) {
        for (UpdateStep i = 0; s && i < _UPDATE_STEP_MAX; i++)
                if (streq(step_names[i], s))
                        return i;
        return _UPDATE_STEP_INVALID;
}

bool update_step_is_final(UpdateStep s) {
        return s == UPDATE_STEP_DOWNLOADED || s == UPDATE_STEP_ARMED || s == UPDATE_STEP_REBOOTING ||
               s == UPDATE_STEP_FAILED;
}

static int lock_open(const char *dir, int flags, int *ret_fd) {
        _cleanup_(freep) char *path = NULL;
        int r, fd;

        r = path_join(dir, UPDATE_LOCK_FILE, &path);
        if (r < 0)
                return r;
        fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int update_progress_lock(const char *dir, int *ret_fd) {
        /* An OFD lock: it belongs to this open file, so neither fork() nor closing another
         * descriptor of the file lets go of it, and no PID is involved. */
        struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        _cleanup_(closep) int fd = -1;
        int r;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        r = lock_open(dir, O_RDWR | O_CREAT, &fd);
        if (r < 0)
                return r;
        if (fcntl(fd, F_OFD_SETLK, &l) < 0)
                return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int update_progress_running(const char *dir) {
        struct flock l = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
        _cleanup_(closep) int fd = -1;
        int r;

        r = lock_open(dir, O_RDONLY, &fd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* Asks without taking it: a reader must never make an update starting now fail. */
        if (fcntl(fd, F_OFD_GETLK, &l) < 0)
                return -errno;
        return l.l_type != F_UNLCK;
}

static int append_pull(char **buf, size_t *len, size_t *cap, const UpdatePull *p) {
        return buf_appendf(buf, len, cap, "{\"objects_fetched\":%llu,\"objects_requested\":%llu,\"bytes_transferred\":%llu}",
                           (unsigned long long) p->fetched, (unsigned long long) p->requested,
                           (unsigned long long) p->bytes);
}

int update_progress_save(const char *dir, UpdateProgress *p) {
        _cleanup_(freep) char *json = NULL, *path = NULL;
        size_t len = 0, cap = 0;
        int r;

        p->changed_usec = now(CLOCK_REALTIME);
        r = buf_appendf(&json, &len, &cap, "{\"step\":\"%s\",\"pid\":%d,\"started_usec\":%llu,\"changed_usec\":%llu,"
                        "\"refspec\":", update_step_to_string(p->step), (int) p->pid,
                        (unsigned long long) p->started_usec, (unsigned long long) p->changed_usec);
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, p->refspec);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"version\":");
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, p->version);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"checksum\":\"%s\",\"reason\":", p->checksum);
        if (r >= 0)
                r = p->reason[0] ? json_append_string(&json, &len, &cap, p->reason) : buf_appendf(&json, &len, &cap, "null");
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"pull\":");
        if (r >= 0)
                r = p->have_pull ? append_pull(&json, &len, &cap, &p->pull) : buf_appendf(&json, &len, &cap, "null");
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, "}\n");
        if (r < 0)
                return r;
        r = path_join(dir, UPDATE_PROGRESS_FILE, &path);
        if (r < 0)
                return r;
        return write_file_atomic(path, json, len, 0644);
}

/* Reads DIR/NAME as one JSON object. Returns 1 with *ret, 0 when there is none, -EBADMSG, -errno. */
static int load_object(const char *dir, const char *name, JsonValue **ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        int r;

        r = path_join(dir, name, &path);
        if (r < 0)
                return r;
        r = read_file(path, UPDATE_PROGRESS_MAX, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (json_parse(text, ret) < 0)
                return -EBADMSG;
        if ((*ret)->type != JSON_OBJECT) {
                *ret = json_free(*ret);
                return -EBADMSG;
        }
        return 1;
}

/* P of either file. Returns 0, or -EBADMSG when a figure is missing or not a number. */
static int parse_pull(const JsonValue *v, UpdatePull *ret) {
        if (json_uint(json_get(v, "objects_fetched", NULL), &ret->fetched) < 0 ||
            json_uint(json_get(v, "objects_requested", NULL), &ret->requested) < 0 ||
            json_uint(json_get(v, "bytes_transferred", NULL), &ret->bytes) < 0)
                return -EBADMSG;
        return 0;
}

int update_progress_load(const char *dir, UpdateProgress *ret) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        const JsonValue *pull;
        uint64_t pid;
        int r;

        r = load_object(dir, UPDATE_PROGRESS_FILE, &v);
        if (r <= 0)
                return r;
        *ret = (UpdateProgress) { .step = update_step_from_string(json_string(json_get(v, "step", NULL))) };
        if (ret->step < 0 || json_uint(json_get(v, "pid", NULL), &pid) < 0 || pid == 0 || pid > INT32_MAX)
                return -EBADMSG;
        ret->pid = (pid_t) pid;
        (void) json_uint(json_get(v, "started_usec", NULL), &ret->started_usec);
        (void) json_uint(json_get(v, "changed_usec", NULL), &ret->changed_usec);
        snprintf(ret->refspec, sizeof(ret->refspec), "%s", strempty(json_string(json_get(v, "refspec", NULL))));
        snprintf(ret->version, sizeof(ret->version), "%s", strempty(json_string(json_get(v, "version", NULL))));
        snprintf(ret->checksum, sizeof(ret->checksum), "%s", strempty(json_string(json_get(v, "checksum", NULL))));
        snprintf(ret->reason, sizeof(ret->reason), "%s", strempty(json_string(json_get(v, "reason", NULL))));
        pull = json_get(v, "pull", NULL);
        if (pull && pull->type == JSON_OBJECT) {
                if (parse_pull(pull, &ret->pull) < 0)
                        return -EBADMSG;
                ret->have_pull = true;
        }
        return 1;
}

int update_pull_load(const char *dir, UpdatePull *ret) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        int r;

        r = load_object(dir, UPDATE_PULL_FILE, &v);
        if (r <= 0)
                return r;
        *ret = (UpdatePull) {};
        r = parse_pull(v, ret);
        return r < 0 ? r : 1;
}

static int remove_file(const char *dir, const char *name) {
        _cleanup_(freep) char *path = NULL;
        int r = path_join(dir, name, &path);

        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int update_progress_clear(const char *dir, bool all) {
        int r = remove_file(dir, UPDATE_PULL_FILE);

        if (r >= 0 && all)
                r = remove_file(dir, UPDATE_PROGRESS_FILE);
        return r;
}
