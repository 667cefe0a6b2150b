/*
 * faultshim.c - LD_PRELOAD shim for the fault-injection tests: the Nth
 * file-changing call under one directory fails.
 *
 *   FAULT_DIR=/abs/dir   only calls on files under this directory count
 *   FAULT_N=N            the Nth counted call fails (unset or 0: count only)
 *   FAULT_ERRNO=EIO      or ENOSPC (the default)
 *   FAULT_LOG=file       "N call path" is appended for the injected fault
 *   FAULT_CALLS=a,b      count only these calls (default: all of them)
 *   FAULT_MODE=kill      the process kills itself (SIGKILL) instead: a crash
 *
 * Counted calls: write, pwrite, fsync, fdatasync, close, rename, link, mkdir,
 * unlink, ftruncate, open/openat with O_CREAT, and close of a descriptor open
 * for writing (closing a read-only one loses nothing; a program may rightly
 * ignore its error).  A failed close still releases the descriptor, as on
 * Linux.  Calls made inside libc (stdio,
 * mkdtemp) do not go through these symbols and are not counted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Shared with children (fork), so that a call is counted once whatever
 * process makes it. */
static unsigned long *shim_count;

__attribute__((constructor)) static void
shim_init(void)
{
    void *p = mmap(NULL, sizeof *shim_count, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    shim_count = p == MAP_FAILED ? NULL : p;
}

static int
shim_under(const char *path)
{
    const char *dir = getenv("FAULT_DIR");
    size_t n;

    if (dir == NULL || path == NULL)
        return 0;
    n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int
shim_fd_under(int fd, char *path)
{
    char link[64];
    ssize_t n;

    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    if ((n = readlink(link, path, 4095)) < 0)
        return 0;
    path[n] = '\0';
    return shim_under(path);
}

static int
shim_path_under(int dirfd, const char *path)
{
    char buf[8200];

    if (path == NULL)
        return 0;
    if (path[0] != '/') {
        char cwd[4096];
        if (dirfd != AT_FDCWD) {
            char link[64];
            ssize_t n;
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            if ((n = readlink(link, cwd, sizeof cwd - 1)) < 0)
                return 0;
            cwd[n] = '\0';
        } else if (getcwd(cwd, sizeof cwd) == NULL) {
            return 0;
        }
        snprintf(buf, sizeof buf, "%s/%s", cwd, path);
        path = buf;
    }
    return shim_under(path);
}

/* 1 when this counted call is the one to fail (errno is set). */
static int
shim_fail(const char *call, const char *what)
{
    const char *n = getenv("FAULT_N"), *e = getenv("FAULT_ERRNO"), *log = getenv("FAULT_LOG");
    unsigned long want = n ? strtoul(n, NULL, 10) : 0;
    int saved = errno;

    const char *only = getenv("FAULT_CALLS"), *mode = getenv("FAULT_MODE");
    unsigned long now;

    if (shim_count == NULL)
        return 0;
    if (only != NULL) {
        const char *p = strstr(only, call);
        size_t l = strlen(call);
        if (p == NULL || (p != only && p[-1] != ',') || (p[l] != '\0' && p[l] != ','))
            return 0;
    }
    now = __atomic_add_fetch(shim_count, 1, __ATOMIC_SEQ_CST);
    if (want == 0 || now != want)
        return 0;
    if (log != NULL) {
        FILE *f = fopen(log, "a");
        if (f != NULL) {
            fprintf(f, "%lu %s %s\n", now, call, what ? what : "");
            fclose(f);
        }
    }
    if (mode != NULL && strcmp(mode, "kill") == 0)
        kill(getpid(), SIGKILL);
    errno = saved;
    errno = e != NULL && strcmp(e, "EIO") == 0 ? EIO : ENOSPC;
    return 1;
}

typedef ssize_t (*shim_write_fn)(int, const void *, size_t);
typedef ssize_t (*shim_pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*shim_fd_fn)(int);
typedef int (*shim_trunc_fn)(int, off_t);
typedef int (*shim_2path_fn)(const char *, const char *);
typedef int (*shim_mkdir_fn)(const char *, mode_t);
typedef int (*shim_path_fn)(const char *);
typedef int (*shim_open_fn)(const char *, int, ...);
typedef int (*shim_openat_fn)(int, const char *, int, ...);

#define REAL(name, type) \
    static type real_##name; \
    if (real_##name == NULL) real_##name = (type)dlsym(RTLD_NEXT, #name)

static int
shim_fd_call(const char *call, int fd)
{
    char path[4096];

    return shim_fd_under(fd, path) && shim_fail(call, path);
}

ssize_t write(int fd, const void *b, size_t n)
{
    REAL(write, shim_write_fn);
    if (shim_fd_call("write", fd))
        return -1;
    return real_write(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off)
{
    REAL(pwrite, shim_pwrite_fn);
    if (shim_fd_call("pwrite", fd))
        return -1;
    return real_pwrite(fd, b, n, off);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t off)
{
    REAL(pwrite64, shim_pwrite_fn);
    if (shim_fd_call("pwrite", fd))
        return -1;
    return real_pwrite64(fd, b, n, off);
}

int fsync(int fd)
{
    REAL(fsync, shim_fd_fn);
    if (shim_fd_call("fsync", fd))
        return -1;
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(fdatasync, shim_fd_fn);
    if (shim_fd_call("fdatasync", fd))
        return -1;
    return real_fdatasync(fd);
}

int close(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    REAL(close, shim_fd_fn);
    if (fl != -1 && (fl & O_ACCMODE) != O_RDONLY && shim_fd_call("close", fd)) {
        int e = errno;
        real_close(fd);
        errno = e;
        return -1;
    }
    return real_close(fd);
}

int ftruncate(int fd, off_t len)
{
    REAL(ftruncate, shim_trunc_fn);
    if (shim_fd_call("ftruncate", fd))
        return -1;
    return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
    REAL(ftruncate64, shim_trunc_fn);
    if (shim_fd_call("ftruncate", fd))
        return -1;
    return real_ftruncate64(fd, len);
}

int rename(const char *a, const char *b)
{
    REAL(rename, shim_2path_fn);
    if ((shim_path_under(AT_FDCWD, a) || shim_path_under(AT_FDCWD, b)) && shim_fail("rename", b))
        return -1;
    return real_rename(a, b);
}

int link(const char *a, const char *b)
{
    REAL(link, shim_2path_fn);
    if (shim_path_under(AT_FDCWD, b) && shim_fail("link", b))
        return -1;
    return real_link(a, b);
}

int mkdir(const char *p, mode_t m)
{
    REAL(mkdir, shim_mkdir_fn);
    if (shim_path_under(AT_FDCWD, p) && shim_fail("mkdir", p))
        return -1;
    return real_mkdir(p, m);
}

int unlink(const char *p)
{
    REAL(unlink, shim_path_fn);
    if (shim_path_under(AT_FDCWD, p) && shim_fail("unlink", p))
        return -1;
    return real_unlink(p);
}

#define OPEN_BODY(name, dirfd, path)                                        \
    mode_t mode = 0;                                                        \
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {                                    \
        va_list ap;                                                         \
        va_start(ap, flags);                                                \
        mode = (mode_t)va_arg(ap, int);                                     \
        va_end(ap);                                                         \
        if (shim_path_under(dirfd, path) && shim_fail("open", path))        \
            return -1;                                                      \
    }

int open(const char *p, int flags, ...)
{
    REAL(open, shim_open_fn);
    OPEN_BODY(open, AT_FDCWD, p)
    return real_open(p, flags, mode);
}

int open64(const char *p, int flags, ...)
{
    REAL(open64, shim_open_fn);
    OPEN_BODY(open64, AT_FDCWD, p)
    return real_open64(p, flags, mode);
}

int openat(int dfd, const char *p, int flags, ...)
{
    REAL(openat, shim_openat_fn);
    OPEN_BODY(openat, dfd, p)
    return real_openat(dfd, p, flags, mode);
}

int openat64(int dfd, const char *p, int flags, ...)
{
    REAL(openat64, shim_openat_fn);
    OPEN_BODY(openat64, dfd, p)
    return real_openat64(dfd, p, flags, mode);
}
