/*
 * atomic.c - temp directory beside the target, fsync, rename, lock.
 *
 * Layout next to a target "dir/NAME":
 *   dir/.NAME.lock        lock file (fcntl write lock), left in place
 *   dir/.NAME.XXXXXX/     private temporary directory, one per run
 * Every file is written inside the temporary directory and renamed out of it,
 * so a reader never sees a partial file and a crash leaves the old map.
 */
#include "libmap/atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/internal.h"

struct lm_atomic {
    unsigned flags;
    char  **finals;
    char  **tmps;
    size_t  n;
    char   *dir;        /* directory of the targets */
    char   *tmpdir;
    int     lockfd;
    char   *lockpath;
};

static const char *
atomic_basename(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

void
lm_atomic_remove_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *e;

    if (dp != NULL) {
        while ((e = readdir(dp)) != NULL) {
            char *p;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if ((p = lm_str_join(dir, "/", e->d_name)) != NULL) {
                unlink(p);
                free(p);
            }
        }
        closedir(dp);
    }
    rmdir(dir);
}

static char *
atomic_in(const char *dir, const char *prefix, const char *name)
{
    char *p = lm_str_join(dir, "/", prefix), *q;

    if (p == NULL)
        return NULL;
    q = lm_str_join(p, name, "");
    free(p);
    return q;
}

static int
atomic_exists(const char *dir, const char *prefix, const char *name)
{
    struct stat st;
    char *p = atomic_in(dir, prefix, name);
    int rc = p != NULL && lstat(p, &st) == 0;

    free(p);
    return rc;
}

/* Put the old files of a set back (see atomic.h): 0, or -1 when a step
 * failed (the marker then stays, and the next run tries again). */
static int
atomic_roll_back(const char *dir, const char *tmpdir, char *const *names, size_t n)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++) {
        char *old = atomic_in(tmpdir, ".old.", names[i]);
        char *final = lm_str_join(dir, "/", names[i]);

        if (old == NULL || final == NULL)
            rc = -1;
        else if (atomic_exists(tmpdir, ".old.", names[i])) {
            if (rename(old, final) != 0)
                rc = -1;
        } else if (atomic_exists(tmpdir, ".none.", names[i])
                   && !atomic_exists(tmpdir, "", names[i])) {
            if (unlink(final) != 0 && errno != ENOENT)
                rc = -1;
        }
        free(old);
        free(final);
    }
    return rc;
}

/* Finish or undo the publication of a set interrupted by a crash. */
static void
atomic_recover(const char *dir, const char *stale)
{
    DIR *dp;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int forward = atomic_exists(stale, "", ".commit");

    if (!forward && !atomic_exists(stale, "", ".rollback"))
        return;                 /* nothing was published */
    if ((dp = opendir(stale)) == NULL)
        return;
    while ((e = readdir(dp)) != NULL) {
        const char *s = e->d_name;
        if (strncmp(s, ".old.", 5) == 0)
            s += 5;
        else if (strncmp(s, ".none.", 6) == 0)
            s += 6;
        else
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? 2 * cap : 8) * sizeof *names);
            if (nn == NULL)
                break;
            names = nn;
        }
        if ((names[n] = lm_str_join(s, "", "")) == NULL)
            break;
        n++;
    }
    closedir(dp);
    if (forward) {
        for (i = 0; i < n; i++) {
            char *from = atomic_in(stale, "", names[i]), *to = lm_str_join(dir, "/", names[i]);
            if (from != NULL && to != NULL && atomic_exists(stale, "", names[i]))
                (void)rename(from, to);
            free(from);
            free(to);
        }
    } else {
        (void)atomic_roll_back(dir, stale, names, n);
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Remove ".NAME.XXXXXX" directories left by runs killed before they could
 * clean up, after completing or undoing a set they were publishing.  Only
 * called while holding the lock, so none is in use. */
static void
atomic_remove_stale(const struct lm_atomic *a, const char *name)
{
    size_t nl = strlen(name);
    DIR *dp = opendir(a->dir);
    struct dirent *e;

    if (dp == NULL)
        return;
    while ((e = readdir(dp)) != NULL) {
        const char *s = e->d_name;
        char *p;
        struct stat st;

        if (s[0] != '.' || strncmp(s + 1, name, nl) != 0 || s[1 + nl] != '.'
            || strlen(s + 2 + nl) != 6)
            continue;
        if ((p = lm_str_join(a->dir, "/", s)) == NULL)
            continue;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && strcmp(p, a->tmpdir ? a->tmpdir : "") != 0) {
            atomic_recover(a->dir, p);
            lm_atomic_remove_dir(p);
        }
        free(p);
    }
    closedir(dp);
}

/* Take the write lock on dir/.NAME.lock.  The file is removed again when the
 * run ends, so a waiter may find it has locked a file that is no longer
 * there: it then starts over with the new one. */
static int
atomic_lock(struct lm_atomic *a, const char *name, unsigned flags, struct lm_diags *d)
{
    char *path = lm_str_join(a->dir, "/.", name);
    struct stat fs, ps;
    struct flock fl;

    if (path == NULL || (a->lockpath = lm_str_join(path, ".lock", "")) == NULL) {
        free(path);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    free(path);
    for (;;) {
        a->lockfd = open(a->lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (a->lockfd < 0)
            return lm_diag_sys(d, LM_E_CREATE, errno, NULL, "cannot create %s (lock file %s)",
                               a->finals[0], a->lockpath);
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        while (fcntl(a->lockfd, (flags & LM_ATOMIC_NOWAIT) ? F_SETLK : F_SETLKW, &fl) != 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            close(a->lockfd);
            a->lockfd = -1;
            if (e == EACCES || e == EAGAIN)
                return lm_diag_add(d, LM_ERROR, LM_E_BUSY, NULL,
                                   "%s is locked by another run (lock file %s)",
                                   a->finals[0], a->lockpath);
            return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot lock %s", a->lockpath);
        }
        if (fstat(a->lockfd, &fs) == 0 && stat(a->lockpath, &ps) == 0
            && fs.st_dev == ps.st_dev && fs.st_ino == ps.st_ino)
            return 0;
        close(a->lockfd);
        a->lockfd = -1;
    }
}

static int
atomic_check_target(const char *final, unsigned flags, struct lm_diags *d)
{
    struct stat st;

    if (lstat(final, &st) != 0)
        return 0;
    if (S_ISLNK(st.st_mode) && !(flags & LM_ATOMIC_UNSAFE))
        return lm_diag_add(d, LM_ERROR, LM_E_CREATE, NULL,
                           "%s is a symbolic link; not replacing it "
                           "(remove the link, or use --unsafe to replace it)", final);
    if (S_ISDIR(st.st_mode))
        return lm_diag_add(d, LM_ERROR, LM_E_CREATE, NULL,
                           "%s is a directory; not replacing it", final);
    return 0;
}

struct lm_atomic *
lm_atomic_begin(const char *const *finals, unsigned flags, struct lm_diags *d)
{
    struct lm_atomic *a;
    const char *base;
    char *templ = NULL;
    size_t i, n;

    for (n = 0; finals[n] != NULL; n++)
        ;
    if ((a = calloc(1, sizeof *a)) == NULL)
        goto nomem;
    a->lockfd = -1;
    a->n = n;
    a->flags = flags;
    if ((a->finals = calloc(n + 1, sizeof *a->finals)) == NULL
        || (a->tmps = calloc(n + 1, sizeof *a->tmps)) == NULL)
        goto nomem;
    for (i = 0; i < n; i++)
        if ((a->finals[i] = lm_str_join(finals[i], "", "")) == NULL)
            goto nomem;
    base = atomic_basename(finals[0]);
    if (base == finals[0])
        a->dir = lm_str_join(".", "", "");
    else if (base == finals[0] + 1)
        a->dir = lm_str_join("/", "", "");
    else if ((a->dir = malloc((size_t)(base - finals[0]))) != NULL) {
        memcpy(a->dir, finals[0], (size_t)(base - finals[0]) - 1);
        a->dir[base - finals[0] - 1] = '\0';
    }
    if (a->dir == NULL)
        goto nomem;
    for (i = 0; i < n; i++)
        if (atomic_check_target(finals[i], flags, d) != 0)
            goto fail;
    if (atomic_lock(a, base, flags, d) != 0)
        goto fail;
    atomic_remove_stale(a, base);
    if ((templ = lm_str_join(a->dir, "/.", base)) == NULL)
        goto nomem;
    {
        char *t = lm_str_join(templ, ".XXXXXX", "");
        free(templ);
        if ((templ = t) == NULL)
            goto nomem;
    }
    if (mkdtemp(templ) == NULL) {
        lm_diag_sys(d, LM_E_CREATE, errno, NULL,
                    "cannot create a temporary directory in %s", a->dir);
        free(templ);
        goto fail;
    }
    a->tmpdir = templ;
    for (i = 0; i < n; i++)
        if ((a->tmps[i] = lm_str_join(a->tmpdir, "/", atomic_basename(finals[i]))) == NULL)
            goto nomem;
    return a;
nomem:
    lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
fail:
    lm_atomic_end(a);
    return NULL;
}

const char *
lm_atomic_tmp(const struct lm_atomic *a, size_t i)
{
    return i < a->n ? a->tmps[i] : NULL;
}

const char *
lm_atomic_dir(const struct lm_atomic *a)
{
    return a->tmpdir;
}

/* fsync a file and give it the owner and mode of the file it replaces. */
static int
atomic_settle(const char *tmp, const char *final, struct lm_diags *d)
{
    struct stat old;
    int fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot open %s", tmp);
    if (stat(final, &old) == 0 && S_ISREG(old.st_mode)) {
        if (geteuid() == 0 && fchown(fd, old.st_uid, old.st_gid) != 0) {
            int e = errno;
            close(fd);
            return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot set the owner of %s", tmp);
        }
        if (fchmod(fd, old.st_mode & 07777) != 0) {
            int e = errno;
            close(fd);
            return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot set the mode of %s", tmp);
        }
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot write %s", final);
    }
    if (close(fd) != 0)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", final);
    return 0;
}

int
lm_atomic_write(struct lm_atomic *a, size_t i, const void *buf, size_t len,
                struct lm_diags *d)
{
    const char *p = buf;
    int fd;

    if (i >= a->n)
        return lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "no output file %zu", i);
    fd = open(a->tmps[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        return lm_diag_sys(d, LM_E_CREATE, errno, NULL, "cannot create %s", a->finals[i]);
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot write %s", a->finals[i]);
        }
        p += w;
        len -= (size_t)w;
    }
    if (close(fd) != 0)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", a->finals[i]);
    return 0;
}

static int
atomic_sync_dir(const char *dir, struct lm_diags *d)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot sync directory %s", dir);
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot sync directory %s", dir);
    }
    close(fd);      /* read-only: nothing to lose */
    return 0;
}

/* Back up the files being replaced and write the marker (see atomic.h). */
static int
atomic_prepare_set(struct lm_atomic *a, struct lm_diags *d)
{
    size_t i;
    struct stat st;
    int fd;

    for (i = 0; i < a->n; i++) {
        const char *name = atomic_basename(a->finals[i]);
        int had = lstat(a->finals[i], &st) == 0;
        char *p = atomic_in(a->tmpdir, had ? ".old." : ".none.", name);

        if (p == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        if (had ? link(a->finals[i], p) != 0
                : (fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0
                  || close(fd) != 0) {
            int e = errno;
            free(p);
            return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot keep a copy of %s", a->finals[i]);
        }
        free(p);
    }
    {
        char *p = atomic_in(a->tmpdir, "", ".commit");
        if (p == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || close(fd) != 0) {
            int e = errno;
            free(p);
            return lm_diag_sys(d, LM_E_IO, e, NULL, "cannot write in %s", a->tmpdir);
        }
        free(p);
    }
    return atomic_sync_dir(a->tmpdir, d);
}

/* A rename of a set failed: turn the marker into ".rollback" (so that a
 * crash from now on is undone, not completed) and put the old files back. */
static void
atomic_undo_set(struct lm_atomic *a, struct lm_diags *d)
{
    char *c = atomic_in(a->tmpdir, "", ".commit"), *r = atomic_in(a->tmpdir, "", ".rollback");
    char **names = calloc(a->n, sizeof *names);
    int marked = c != NULL && r != NULL && rename(c, r) == 0;
    size_t i;

    free(c);
    free(r);
    if (marked && names != NULL) {
        for (i = 0; i < a->n; i++)
            names[i] = a->finals[i] + (atomic_basename(a->finals[i]) - a->finals[i]);
        if (atomic_roll_back(a->dir, a->tmpdir, names, a->n) == 0
            && atomic_sync_dir(a->dir, d) == 0) {
            free(names);
            lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "the old files in %s are back in place",
                        a->dir);
            return;
        }
    }
    free(names);
    /* Keep the temporary directory and its marker: the next run, under the
     * lock, completes the set (".commit") or puts the old files back. */
    free(a->tmpdir);
    a->tmpdir = NULL;
    lm_diag_add(d, LM_ERROR, LM_E_IO, NULL, "the files in %s are a mix of old and new until "
                "the next run on them completes or undoes the change", a->dir);
}

/* Whether the file at final holds exactly the bytes of tmp.  Anything that
 * keeps us from knowing (no such file, not a regular file, a read error)
 * counts as different: the new file is then published as without the
 * comparison. */
static int
atomic_same_bytes(const char *tmp, const char *final)
{
    char a[16384], b[16384];
    struct stat sa, sb;
    int fa = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), fb = -1, same = 0;

    if (fa < 0 || (fb = open(final, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0
        || fstat(fa, &sa) != 0 || fstat(fb, &sb) != 0 || !S_ISREG(sb.st_mode)
        || sa.st_size != sb.st_size)
        goto out;
    for (;;) {
        ssize_t na = read(fa, a, sizeof a), nb, got = 0;
        if (na < 0)
            goto out;
        /* read the same amount from the old file (a short read is allowed) */
        while (got < na && (nb = read(fb, b + got, (size_t)(na - got))) > 0)
            got += nb;
        if (got != na || memcmp(a, b, (size_t)na) != 0)
            goto out;
        if (na == 0) {
            same = read(fb, b, 1) == 0;
            goto out;
        }
    }
out:
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return same;
}

/* LM_ATOMIC_IF_CHANGED: forget the files that would not change, so that the
 * rest of the commit (backup, marker, renames, rollback) sees only the
 * others. */
static void
atomic_drop_unchanged(struct lm_atomic *a)
{
    size_t i, k = 0;

    for (i = 0; i < a->n; i++) {
        if (atomic_same_bytes(a->tmps[i], a->finals[i])) {
            unlink(a->tmps[i]);
            free(a->tmps[i]);
            free(a->finals[i]);
            continue;
        }
        a->tmps[k] = a->tmps[i];
        a->finals[k] = a->finals[i];
        k++;
    }
    for (i = k; i < a->n; i++)
        a->tmps[i] = a->finals[i] = NULL;
    a->n = k;
}

int
lm_atomic_commit(struct lm_atomic *a, struct lm_diags *d)
{
    int set;
    size_t i;

    if (a->flags & LM_ATOMIC_IF_CHANGED) {
        atomic_drop_unchanged(a);
        if (a->n == 0)
            return LM_UNCHANGED;
    }
    set = (a->flags & LM_ATOMIC_SET) && a->n > 1;

    for (i = 0; i < a->n; i++)
        if (atomic_settle(a->tmps[i], a->finals[i], d) != 0)
            return -1;
    if (set && atomic_prepare_set(a, d) != 0)
        return -1;
    for (i = 0; i < a->n; i++)
        if (rename(a->tmps[i], a->finals[i]) != 0) {
            lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot rename %s to %s",
                        a->tmps[i], a->finals[i]);
            if (set && i > 0)
                atomic_undo_set(a, d);
            return -1;
        }
    /* The renames are durable only once the directory itself is on disk. */
    if (atomic_sync_dir(a->dir, d) != 0)
        return -1;
    return 0;
}

void
lm_atomic_end(struct lm_atomic *a)
{
    size_t i;

    if (a == NULL)
        return;
    if (a->tmpdir != NULL)
        lm_atomic_remove_dir(a->tmpdir);
    if (a->lockfd >= 0) {
        unlink(a->lockpath);    /* before closing: we still hold the lock */
        close(a->lockfd);
    }
    free(a->lockpath);
    for (i = 0; i < a->n; i++) {
        if (a->finals)
            free(a->finals[i]);
        if (a->tmps)
            free(a->tmps[i]);
    }
    free(a->finals);
    free(a->tmps);
    free(a->dir);
    free(a->tmpdir);
    free(a);
}
