/* SPDX-License-Identifier: MIT */
#include <ostree.h>
#include <sys/stat.h>

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
