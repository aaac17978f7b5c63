/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ostree.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ostree-admin.h"
#include "util.h"

struct Admin {
        char *path;
        OstreeSysroot *sysroot;
        /* The deployments admin_list() returned, as libostree's own objects: the list given to
         * ostree_sysroot_write_deployments() must hold these very objects, which it compares by
         * pointer (with the booted and the staged one above all). */
        GPtrArray *deployments;
        bool locked;
};

/* libostree reports errors in the GIO domain (glnx turns errno into it) or GLib's file domain. */
static int errno_from_gerror(const GError *e) {
        static const struct {
                int io;
                int errnum;
        } io_errors[] = {
                { G_IO_ERROR_NOT_FOUND,         ENOENT },
                { G_IO_ERROR_EXISTS,            EEXIST },
                { G_IO_ERROR_IS_DIRECTORY,      EISDIR },
                { G_IO_ERROR_NOT_DIRECTORY,     ENOTDIR },
                { G_IO_ERROR_NOT_EMPTY,         ENOTEMPTY },
                { G_IO_ERROR_FILENAME_TOO_LONG, ENAMETOOLONG },
                { G_IO_ERROR_INVALID_ARGUMENT,  EINVAL },
                { G_IO_ERROR_PERMISSION_DENIED, EACCES },
                { G_IO_ERROR_NOT_SUPPORTED,     EOPNOTSUPP },
                { G_IO_ERROR_NO_SPACE,          ENOSPC },
                { G_IO_ERROR_READ_ONLY,         EROFS },
                { G_IO_ERROR_BUSY,              EBUSY },
                { G_IO_ERROR_WOULD_BLOCK,       EWOULDBLOCK },
                { G_IO_ERROR_TIMED_OUT,         ETIMEDOUT },
                { G_IO_ERROR_TOO_MANY_OPEN_FILES, EMFILE },
                /* What the fetcher reports for a remote it cannot reach. */
                { G_IO_ERROR_HOST_NOT_FOUND,    EHOSTUNREACH },
                { G_IO_ERROR_HOST_UNREACHABLE,  EHOSTUNREACH },
                { G_IO_ERROR_NETWORK_UNREACHABLE, EHOSTUNREACH },
                { G_IO_ERROR_CONNECTION_REFUSED, EHOSTUNREACH },
                { G_IO_ERROR_CONNECTION_CLOSED, EHOSTUNREACH },
                { G_IO_ERROR_PROXY_FAILED,      EHOSTUNREACH },
        };

        if (e && e->domain == G_IO_ERROR)
                for (size_t i = 0; i < ELEMENTSOF(io_errors); i++)
                        if (io_errors[i].io == e->code)
                                return -io_errors[i].errnum;
        if (e && e->domain == G_FILE_ERROR) {
                switch (e->code) {
                case G_FILE_ERROR_NOENT:  return -ENOENT;
                case G_FILE_ERROR_EXIST:  return -EEXIST;
                case G_FILE_ERROR_ACCES:  return -EACCES;
                case G_FILE_ERROR_NOSPC:  return -ENOSPC;
                case G_FILE_ERROR_ROFS:   return -EROFS;
                case G_FILE_ERROR_NOTDIR: return -ENOTDIR;
                default:                  break;
                }
        }
        return -EIO;
}

/* The border: turns a GError into -errno and one line in err that names the sysroot. */
static int fail_gerror(const Admin *a, GError *e, const char *what, char *err, size_t size) {
        int r = errno_from_gerror(e);

        snprintf(err, size, "%s '%s': %s", what, a->path, e ? e->message : "unknown libostree error");
        /* libostree's messages may span lines; the caller prints one. */
        for (char *p = err; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        return r;
}

Admin *admin_free(Admin *a) {
        if (!a)
                return NULL;
        if (a->deployments)
                g_ptr_array_unref(a->deployments);
        if (a->sysroot) {
                if (a->locked)
                        ostree_sysroot_unlock(a->sysroot);
                g_object_unref(a->sysroot);
        }
        free(a->path);
        free(a);
        return NULL;
}

/* A sysroot has ostree/repo and ostree/deploy; anything else is not an OSTree system, and that
 * is said before libostree tries (its error would be about some file deep inside). */
static int check_is_sysroot(const char *path, char *err, size_t size) {
        static const char *const dirs[] = { "ostree/repo", "ostree/deploy" };
        struct stat st;

        if (stat(path, &st) < 0) {
                int r = -errno;
                snprintf(err, size, "'%s' is not an OSTree sysroot: %s", path, strerror(-r));
                return r == -ENOENT ? -ENOMEDIUM : r;
        }
        if (!S_ISDIR(st.st_mode)) {
                snprintf(err, size, "'%s' is not an OSTree sysroot: not a directory", path);
                return -ENOMEDIUM;
        }
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_(freep) char *p = NULL;

                if (asprintf(&p, "%s/%s", path, dirs[i]) < 0)
                        return -ENOMEM;
                if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        snprintf(err, size, "'%s' is not an OSTree sysroot: no %s directory", path, dirs[i]);
                        return -ENOMEDIUM;
                }
        }
        return 0;
}

int admin_open(const char *path, AdminFlags flags, Admin **ret, char *err, size_t size) {
        _cleanup_(admin_freep) Admin *a = NULL;
        g_autoptr(GError) e = NULL;
        g_autoptr(GFile) file = NULL;
        gboolean acquired = FALSE;
        int r;

        r = check_is_sysroot(path, err, size);
        if (r < 0)
                return r;

        a = calloc(1, sizeof(Admin));
        if (!a || !(a->path = strdup(path)))
                return -ENOMEM;
        file = g_file_new_for_path(path);
        a->sysroot = ostree_sysroot_new(file);

        if (flags & ADMIN_WRITE) {
                /* Does nothing unless the sysroot is the booted one and we are root; then this
                 * process (never the daemon) gets its own mount namespace. */
                if (!ostree_sysroot_initialize_with_mount_namespace(a->sysroot, NULL, &e))
                        return fail_gerror(a, e, "Failed to initialize the sysroot", err, size);
                if (!ostree_sysroot_try_lock(a->sysroot, &acquired, &e))
                        return fail_gerror(a, e, "Failed to lock the sysroot", err, size);
                if (!acquired) {
                        snprintf(err, size, "The sysroot '%s' is locked by another process (%s%s), try later",
                                 path, streq(path, "/") ? "" : path, "/ostree/lock");
                        return -EWOULDBLOCK;
                }
                a->locked = true;
        }
        if (!ostree_sysroot_load(a->sysroot, NULL, &e))
                return fail_gerror(a, e, "Failed to load the sysroot", err, size);

        *ret = TAKE_PTR(a);
        return 0;
}

/* The "version" of the commit's metadata, or NULL. */
static int commit_version(OstreeRepo *repo, const char *checksum, char **ret) {
        g_autoptr(GVariant) commit = NULL, metadata = NULL;
        const char *version = NULL;

        *ret = NULL;
        /* A missing commit (a repository pruned by hand) leaves the version unknown, no more. */
        if (!ostree_repo_load_variant_if_exists(repo, OSTREE_OBJECT_TYPE_COMMIT, checksum, &commit, NULL) || !commit)
                return 0;
        metadata = g_variant_get_child_value(commit, 0);
        if (!g_variant_lookup(metadata, OSTREE_COMMIT_META_KEY_VERSION, "&s", &version))
                return 0;
        *ret = strdup(version);
        return *ret ? 0 : -ENOMEM;
}

/* The refspec of the deployment's origin file, or NULL. */
static int origin_refspec(OstreeDeployment *o, char **ret) {
        GKeyFile *origin = ostree_deployment_get_origin(o);
        g_autofree char *refspec = origin ? g_key_file_get_string(origin, "origin", "refspec", NULL) : NULL;

        *ret = NULL;
        if (!refspec)
                return 0;
        *ret = strdup(refspec);
        return *ret ? 0 : -ENOMEM;
}

int admin_list(Admin *a, Deployment **ret, size_t *ret_n, char *err, size_t size) {
        OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(a->sysroot);
        OstreeRepo *repo = ostree_sysroot_repo(a->sysroot);
        Deployment *d = NULL;
        size_t n;
        int r;

        if (a->deployments)
                g_ptr_array_unref(a->deployments);
        a->deployments = ostree_sysroot_get_deployments(a->sysroot);
        n = a->deployments->len;
        d = calloc(n ?: 1, sizeof(Deployment));
        if (!d)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                OstreeDeployment *o = a->deployments->pdata[i];
                const char *csum = ostree_deployment_get_csum(o);

                d[i].osname = strdup(ostree_deployment_get_osname(o));
                if (!d[i].osname) {
                        deployments_free(d, n);
                        return -ENOMEM;
                }
                snprintf(d[i].checksum, sizeof(d[i].checksum), "%s", csum);
                d[i].serial = ostree_deployment_get_deployserial(o);
                d[i].booted = o == booted;
                d[i].staged = ostree_deployment_is_staged(o);
                d[i].pinned = ostree_deployment_is_pinned(o);
                r = origin_refspec(o, &d[i].refspec);
                if (r >= 0)
                        r = commit_version(repo, csum, &d[i].version);
                if (r < 0) {
                        deployments_free(d, n);
                        snprintf(err, size, "Failed to read commit %s in '%s': %s", csum, a->path, strerror(-r));
                        return r;
                }
        }
        deploy_classify(d, n);
        *ret = d;
        *ret_n = n;
        return 0;
}

int admin_remove(Admin *a, const bool *remove, size_t n, AdminCleanup *stats, char *err, size_t size) {
        OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(a->sysroot);
        OstreeSysrootWriteDeploymentsOpts opts = { .do_postclean = FALSE };
        g_autoptr(GHashTable) reachable = NULL;
        g_autoptr(GPtrArray) keep = NULL;
        g_autoptr(GError) e = NULL;
        OstreeRepoPruneOptions prune = { .flags = OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY };
        AdminCleanup s = {};
        guint64 freed = 0;
        bool changed = false;

        if (!a->locked || !a->deployments || a->deployments->len != n) {
                snprintf(err, size, "Internal error: '%s' was not opened for writing and listed", a->path);
                return -EINVAL;
        }

        keep = g_ptr_array_new_with_free_func(g_object_unref);
        for (size_t i = 0; i < n; i++) {
                OstreeDeployment *o = a->deployments->pdata[i];

                if (!remove[i]) {
                        g_ptr_array_add(keep, g_object_ref(o));
                        continue;
                }
                /* libostree refuses the booted one itself, but silently drops a staged one that is
                 * not first in the list: check both here. */
                if (o == booted || ostree_deployment_is_staged(o)) {
                        snprintf(err, size, "Refusing to remove the %s deployment %s.%d of '%s'",
                                 o == booted ? "booted" : "staged", ostree_deployment_get_csum(o),
                                 ostree_deployment_get_deployserial(o), a->path);
                        return -EBUSY;
                }
                changed = true;
        }

        if (changed && !ostree_sysroot_write_deployments_with_options(a->sysroot, keep, &opts, NULL, &e))
                return fail_gerror(a, e, "Failed to write the deployments of", err, size);

        /* What `ostree admin undeploy` does after writing (ostree_sysroot_cleanup()), in two steps
         * to learn what the prune freed: old boot versions and deployment directories first, then
         * the objects nothing references. Also done when nothing changed, for a removal whose
         * cleanup failed before. */
        if (!ostree_sysroot_prepare_cleanup(a->sysroot, NULL, &e))
                return fail_gerror(a, e, "Failed to clean up", err, size);
        reachable = ostree_repo_traverse_new_reachable();
        prune.reachable = reachable;
        if (!ostree_sysroot_cleanup_prune_repo(a->sysroot, &prune, &s.objects_total, &s.objects_pruned,
                                               &freed, NULL, &e))
                return fail_gerror(a, e, "Failed to prune the repository of", err, size);
        s.bytes_freed = freed;
        if (stats)
                *stats = s;
        return 0;
}

void admin_pulled_clear(AdminPulled *p) {
        free(p->version);
        *p = (AdminPulled) {};
}

typedef struct PullProgress {
        bool tty;
        struct timespec start;
        unsigned long lines;
        admin_progress_t on_progress;
        void *userdata;
} PullProgress;

static double seconds_since(const struct timespec *t0) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double) (now.tv_sec - t0->tv_sec) + (double) (now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Objects and bytes fetched, and the rate: one line redrawn on a terminal, else a line every
 * 64 changes (libostree signals each batch of objects). */
static void on_pull_progress(OstreeAsyncProgress *progress, gpointer userdata) {
        PullProgress *p = userdata;
        guint fetched = 0, requested = 0;
        guint64 bytes = 0;
        double t = seconds_since(&p->start);

        ostree_async_progress_get(progress, "fetched", "u", &fetched, "requested", "u", &requested,
                                  "bytes-transferred", "t", &bytes, NULL);
        if (p->on_progress)
                p->on_progress(fetched, requested, bytes, p->userdata);
        if (!p->tty && p->lines++ % 64 != 0)
                return;
        fprintf(stderr, "%sPulling: %u of %u objects, %.1f MiB, %.1f MiB/s%s", p->tty ? "\r" : "", fetched,
                requested, (double) bytes / (1024.0 * 1024.0), t > 0 ? (double) bytes / (1024.0 * 1024.0) / t : 0.0,
                p->tty ? "\033[K" : "\n");
}

/* Removes DFD/NAME and all below it; adds what its files took on disk to *freed. Returns 0 or
 * -errno. */
static int remove_tree(int dfd, const char *name, uint64_t *freed) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        struct stat st;
        int fd;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return -errno;
                }
                while ((errno = 0, de = readdir(d))) {
                        int r;

                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        r = remove_tree(dirfd(d), de->d_name, freed);
                        if (r < 0)
                                return r;
                }
                if (errno != 0)
                        return -errno;
        } else
                *freed += (uint64_t) st.st_blocks * 512;
        if (unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Removes the repository's staging directories (tmp/staging-*) that no transaction holds. A pull
 * writes its objects there and moves them into objects/ only when it succeeds; a failed one is
 * left in place for the next pull of the same boot to resume from, whatever it takes. Each is
 * taken first as libostree takes it, with an open file description lock on the file named after
 * it with "-lock" (a pull of another process using it is left alone); that file is removed
 * while the lock is held, as libostree does. Returns 0 with the bytes freed in *freed, or -errno. */
static int remove_staging(OstreeRepo *repo, uint64_t *freed) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(closep) int tmp = -1;
        struct dirent *de;
        int fd, r = 0;

        *freed = 0;
        tmp = openat(ostree_repo_get_dfd(repo), "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmp < 0)
                return errno == ENOENT ? 0 : -errno;
        fd = fcntl(tmp, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
                _cleanup_(closep) int lock_fd = -1;
                _cleanup_(freep) char *name = NULL;
                size_t len = strlen(de->d_name);

                if (!startswith(de->d_name, "staging-") || (len > 5 && streq(de->d_name + len - 5, "-lock")) ||
                    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                if (asprintf(&name, "%s-lock", de->d_name) < 0)
                        return -ENOMEM;
                lock_fd = openat(tmp, name, O_RDWR | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600);
                if (lock_fd < 0)
                        return -errno;
                if (fcntl(lock_fd, F_OFD_SETLK, &lock) < 0) {
                        if (errno == EAGAIN || errno == EACCES)
                                continue;
                        return -errno;
                }
                r = remove_tree(tmp, de->d_name, freed);
                (void) unlinkat(tmp, name, 0);
                if (r < 0)
                        return r;
        }
        return errno != 0 ? -errno : 0;
}

/* A failed pull: -errno and the line in err. The fetcher's own errors (HTTP 404 for an unknown
 * ref, a signature, a checksum) come in G_IO_ERROR_FAILED: they are told apart by what libostree
 * says. Out of space, what the pull wrote is removed. */
static int pull_failed(Admin *a, GError *e, char *err, size_t size) {
        const char *m = e ? e->message : "";
        int r = fail_gerror(a, e, "Failed to pull into", err, size);

        if (r == -EIO && (strstr(m, "404") || strstr(m, "not found")))
                r = -ENOENT;
        else if (r == -EIO && (strstr(m, "ignature") || strstr(m, "GPG") || strstr(m, "Corrupted") ||
                               strstr(m, "hecksum")))
                r = -EBADMSG;
        /* An object that does not decompress (GZlibDecompressor's "Invalid compressed data",
         * "Need more input"): corrupt on the remote, or on its way. */
        else if (e && e->domain == G_IO_ERROR &&
                 (e->code == G_IO_ERROR_INVALID_DATA || e->code == G_IO_ERROR_PARTIAL_INPUT)) {
                snprintf(err, size, "Failed to pull into '%s': a corrupt object from the remote: %s", a->path, m);
                r = -EBADMSG;
        }
        /* libostree refuses an object that would leave less than min-free-space-percent (3 % by
         * default) or min-free-space-size free, before the file system is full. */
        else if (strstr(m, "min-free-space") && strstr(m, "would be exceeded"))
                r = -ENOSPC;
        /* curl's "Couldn't connect to server" does not always come as G_IO_ERROR_FAILED (seen
         * once as another code on a loaded machine): the message decides. */
        else if (strstr(m, "onnect") || strstr(m, "resolve") || strstr(m, "Timeout was reached"))
                r = -EHOSTUNREACH;
        else if (r == -ETIMEDOUT)
                r = -EHOSTUNREACH;

        if (r == -ENOSPC) {
                uint64_t freed = 0;
                int k = remove_staging(ostree_sysroot_repo(a->sysroot), &freed);
                char done[256];

                if (k < 0)
                        snprintf(done, sizeof(done), "failed to remove what the pull wrote in %s/ostree/repo/tmp: %s",
                                 streq(a->path, "/") ? "" : a->path, strerror(-k));
                else if (freed > 0)
                        snprintf(done, sizeof(done), "removed the %.1f MiB the pull wrote", (double) freed / (1024.0 * 1024.0));
                else
                        snprintf(done, sizeof(done), "the pull left nothing behind");
                /* libostree's message says it, or says min-free-space. */
                if (strstr(m, strerror(ENOSPC)))
                        snprintf(err, size, "Failed to pull into '%s': %s; %s", a->path, m, done);
                else
                        snprintf(err, size, "Failed to pull into '%s': %s (%s); %s", a->path, strerror(ENOSPC), m, done);
                for (char *p = err; *p; p++)
                        if (*p == '\n')
                                *p = ' ';
        }
        return r;
}

int admin_pull(Admin *a, const char *refspec, const char *checksum, AdminPullFlags flags, admin_progress_t on_progress,
               void *userdata, AdminPulled *ret, char *err, size_t size) {
        OstreeRepo *repo = ostree_sysroot_repo(a->sysroot);
        g_autofree char *remote = NULL, *ref = NULL, *rev = NULL;
        g_autoptr(OstreeAsyncProgress) progress = NULL;
        g_autoptr(GVariant) options = NULL;
        g_autoptr(GError) e = NULL;
        g_auto(GVariantBuilder) builder;
        PullProgress state = { .tty = isatty(STDERR_FILENO), .on_progress = on_progress, .userdata = userdata };
        OstreeRepoPullFlags pull_flags = OSTREE_REPO_PULL_FLAGS_NONE;
        const char *refs[] = { NULL, NULL }, *ids[] = { checksum, NULL };
        int r;

        *ret = (AdminPulled) {};
        if (!ostree_parse_refspec(refspec, &remote, &ref, &e))
                return fail_gerror(a, e, "Bad refspec for", err, size);
        if (!remote) {
                snprintf(err, size, "The refspec '%s' names no remote: nothing to pull it from", refspec);
                return -EINVAL;
        }
        refs[0] = ref;
        if (flags & ADMIN_PULL_COMMIT_ONLY)
                pull_flags |= OSTREE_REPO_PULL_FLAGS_COMMIT_ONLY;
        g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&builder, "{s@v}", "refs", g_variant_new_variant(g_variant_new_strv(refs, -1)));
        g_variant_builder_add(&builder, "{s@v}", "flags", g_variant_new_variant(g_variant_new_int32(pull_flags)));
        if (checksum)
                g_variant_builder_add(&builder, "{s@v}", "override-commit-ids",
                                      g_variant_new_variant(g_variant_new_strv(ids, -1)));
        options = g_variant_ref_sink(g_variant_builder_end(&builder));

        clock_gettime(CLOCK_MONOTONIC, &state.start);
        if (flags & ADMIN_PULL_PROGRESS)
                progress = ostree_async_progress_new_and_connect(on_pull_progress, &state);
        if (!ostree_repo_pull_with_options(repo, remote, options, progress, NULL, &e))
                return pull_failed(a, e, err, size);
        if (progress) {
                ostree_async_progress_finish(progress);
                ostree_async_progress_get(progress, "fetched", "u", &ret->fetched, "requested", "u", &ret->requested,
                                          "bytes-transferred", "t", &ret->bytes, NULL);
                if (state.tty)
                        fputc('\n', stderr);
        }

        if (!ostree_repo_resolve_rev(repo, refspec, FALSE, &rev, &e))
                return fail_gerror(a, e, "Failed to resolve the pulled ref in", err, size);
        if (checksum && !streq(rev, checksum)) {
                snprintf(err, size, "Pulled %s for '%s', not %s as asked", rev, refspec, checksum);
                return -ESTALE;
        }
        snprintf(ret->checksum, sizeof(ret->checksum), "%s", rev);
        r = commit_version(repo, rev, &ret->version);
        if (r < 0) {
                snprintf(err, size, "Failed to read commit %s in '%s': %s", rev, a->path, strerror(-r));
                return r;
        }
        return 0;
}

int admin_remote_verifies(Admin *a, const char *remote, char *err, size_t size) {
        OstreeRepo *repo = ostree_sysroot_repo(a->sysroot);
        g_autofree char *sign = NULL;
        g_autoptr(GError) e = NULL;
        gboolean gpg = FALSE;

        if (!ostree_repo_remote_get_gpg_verify(repo, remote, &gpg, &e))
                return fail_gerror(a, e, "Failed to read the remote's settings in", err, size);
        /* "sign-verify" is a boolean or a list of signature types (ed25519=inline:KEY, ...). */
        if (!ostree_repo_get_remote_option(repo, remote, "sign-verify", "false", &sign, &e))
                return fail_gerror(a, e, "Failed to read the remote's settings in", err, size);
        return gpg || (sign && *sign && !streq(sign, "false"));
}

int admin_deploy(Admin *a, const char *checksum, const char *refspec, char *name, char *err, size_t size) {
        OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(a->sysroot);
        g_autoptr(OstreeDeployment) merge = NULL, deployment = NULL;
        g_autoptr(GKeyFile) origin = NULL;
        g_autoptr(GError) e = NULL;
        const char *osname;

        if (!a->locked) {
                snprintf(err, size, "Internal error: '%s' was not opened for writing", a->path);
                return -EINVAL;
        }
        if (!booted) {
                snprintf(err, size, "No deployment of '%s' is booted: no stateroot and /etc to deploy with", a->path);
                return -ESRCH;
        }
        osname = ostree_deployment_get_osname(booted);
        merge = ostree_sysroot_get_merge_deployment(a->sysroot, osname);
        origin = ostree_sysroot_origin_new_from_refspec(a->sysroot, refspec);
        /* No kernel arguments given: the merge deployment's (panic=, console=) are kept. */
        if (!ostree_sysroot_deploy_tree(a->sysroot, osname, checksum, origin, merge, NULL, &deployment, NULL, &e))
                return fail_gerror(a, e, "Failed to deploy into", err, size);
        if (!ostree_sysroot_simple_write_deployment(a->sysroot, osname, deployment, merge,
                                                    OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_RETAIN_ROLLBACK,
                                                    NULL, &e))
                return fail_gerror(a, e, "Failed to write the deployments of", err, size);
        snprintf(name, DEPLOY_NAME_MAX, "%s.%d", ostree_deployment_get_csum(deployment),
                 ostree_deployment_get_deployserial(deployment));
        return 0;
}
