/*
 * map.c - the map type table and the generic handle.
 *
 * Policy that is the same for every type lives here: file naming, the
 * BUILDING -> COMMITTED | ABORTED state machine, atomic publication.  Case
 * folding, NUL terminators and duplicate handling belong to the caller
 * (compile.c); backends only store bytes.
 */
#include "libmap/map.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/internal.h"

static const struct lm_backend *const map_backends[] = {
#ifdef LM_HAVE_BDB
    &lm_backend_hash,
    &lm_backend_btree,
#endif
#ifdef LM_HAVE_GDBM
    &lm_backend_dbm,
    &lm_backend_gdbm,
#endif
#ifdef LM_HAVE_CDB
    &lm_backend_cdb,
#endif
#ifdef LM_HAVE_LMDB
    &lm_backend_lmdb,
#endif
    NULL
};

static const struct lm_type_info *const map_infos[] = {
#ifdef LM_HAVE_BDB
    &lm_backend_hash.info,
    &lm_backend_btree.info,
#endif
#ifdef LM_HAVE_GDBM
    &lm_backend_dbm.info,
    &lm_backend_gdbm.info,
#endif
#ifdef LM_HAVE_CDB
    &lm_backend_cdb.info,
#endif
#ifdef LM_HAVE_LMDB
    &lm_backend_lmdb.info,
#endif
    NULL
};

const struct lm_type_info *const *
lm_map_types(void)
{
    return map_infos;
}

const struct lm_backend *
lm_backend_find(const char *name)
{
    size_t i;

    if (name == NULL)
        return NULL;
    for (i = 0; map_backends[i] != NULL; i++)
        if (strcmp(map_backends[i]->info.name, name) == 0)
            return map_backends[i];
    return NULL;
}

const struct lm_type_info *
lm_map_type(const char *name)
{
    const struct lm_backend *be = lm_backend_find(name);

    return be ? &be->info : NULL;
}

void
lm_fold(void *data, size_t len)
{
    unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (unsigned char)(p[i] + ('a' - 'A'));
}

static int
map_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);

    return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

static char *
map_base_of(const struct lm_backend *be, const char *name)
{
    size_t i, len = strlen(name);
    char *p;

    for (i = 0; be->suffixes[i] != NULL; i++)
        if (map_ends_with(name, be->suffixes[i])) {
            len -= strlen(be->suffixes[i]);
            break;
        }
    if ((p = malloc(len + 1)) != NULL) {
        memcpy(p, name, len);
        p[len] = '\0';
    }
    return p;
}

char *
lm_map_base(const char *type, const char *name)
{
    const struct lm_backend *be = lm_backend_find(type);

    return be ? map_base_of(be, name) : NULL;
}

char *
lm_map_path(const char *type, const char *name)
{
    const struct lm_backend *be = lm_backend_find(type);
    char *base, *path;

    if (be == NULL || (base = map_base_of(be, name)) == NULL)
        return NULL;
    path = lm_str_join(base, be->suffixes[0], "");
    free(base);
    return path;
}

const char *
lm_map_guess_type(const char *name)
{
    size_t i, j;

    for (i = 0; map_backends[i] != NULL; i++) {
        const struct lm_backend *be = map_backends[i];
        if (strcmp(be->suffixes[0], ".db") == 0)
            continue;           /* hash and btree share .db */
        for (j = 0; be->suffixes[j] != NULL; j++)
            if (map_ends_with(name, be->suffixes[j]))
                return be->info.name;
    }
    return NULL;
}

/*
 * Reading in a child process.  Berkeley DB (hash, btree) and LMDB follow the
 * page numbers and offsets they find in the file without checking them: a
 * damaged file makes them crash (SIGSEGV, SIGBUS) or loop for ever.  Maps of
 * those types are therefore opened and read in a child process; the caller's
 * process asks for records over a socket and waits at most
 * LIBMAP_READ_TIMEOUT seconds (default 10) for each answer.  A crash or a
 * timeout becomes an error that names the file, never the caller's death.
 * (A property of the type: it belongs in the backend row, which is shared
 * with other work for now.)
 */
static const char *const map_child_types[] = { "hash", "btree", "lmdb", NULL };

#define MAP_CHILD_TIMEOUT 10            /* seconds, per answer */
#define MAP_CHILD_FLUSH   65536         /* the child sends records in batches */

struct map_child {
    pid_t pid;                  /* 0 = no child */
    int fd;                     /* socket to the child */
    int timeout_ms;
    int dead;                   /* the child failed; every call is an error */
    int streaming;              /* lm_map_next asked for every record */
    unsigned long nrec, maxrec; /* records streamed, most the file can hold */
    unsigned char *rbuf;        /* bytes received, rbuf[roff..rlen) unread */
    size_t roff, rlen, rcap;
    char *kbuf, *vbuf;          /* the record handed out last */
    size_t kcap, vcap;
};

static int
map_child_type(const struct lm_backend *be)
{
    size_t i;

    for (i = 0; map_child_types[i] != NULL; i++)
        if (strcmp(map_child_types[i], be->info.name) == 0)
            return 1;
    return 0;
}

static size_t
map_child_offset(const struct lm_backend *be)
{
    return (be->size + 15) & ~(size_t)15;
}

/* The child state of a map read through a child, or NULL. */
static struct map_child *
map_child_of(const struct lm_map *m)
{
    struct map_child *c;

    if (m->state != LM_ST_READ || !map_child_type(m->be))
        return NULL;
    c = (struct map_child *)(void *)((char *)(uintptr_t)m + map_child_offset(m->be));
    return c->pid > 0 || c->dead ? c : NULL;
}

static void
map_child_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t
map_child_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* --- the child's side ---------------------------------------------------- */

struct map_child_out {
    int fd;
    unsigned char *buf;
    size_t len, cap;
};

static void
map_child_flush(struct map_child_out *o)
{
    size_t off = 0;
    ssize_t n;

    while (off < o->len) {
        n = send(o->fd, o->buf + off, o->len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);           /* the caller went away */
        off += (size_t)n;
    }
    o->len = 0;
}

static void
map_child_add(struct map_child_out *o, const void *p, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : MAP_CHILD_FLUSH + 64;
        unsigned char *nb;
        while (cap < o->len + n)
            cap *= 2;
        if ((nb = realloc(o->buf, cap)) == NULL)
            _exit(71);
        o->buf = nb;
        o->cap = cap;
    }
    if (n)
        memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void
map_child_add32(struct map_child_out *o, uint32_t v)
{
    unsigned char b[4];

    map_child_put32(b, v);
    map_child_add(o, b, 4);
}

/* 'X', the code and the text of the first error recorded. */
static void
map_child_add_error(struct map_child_out *o, const struct lm_diags *d)
{
    const char *msg = "cannot read the map";
    int code = LM_E_FORMAT;
    size_t i;

    for (i = 0; i < d->n; i++)
        if (d->v[i].sev == LM_ERROR) {
            msg = d->v[i].msg;
            code = d->v[i].code;
            break;
        }
    map_child_add(o, "X", 1);
    map_child_add32(o, (uint32_t)code);
    map_child_add32(o, (uint32_t)strlen(msg));
    map_child_add(o, msg, strlen(msg));
}

/* Requests, read in blocks: a batch of lookups arrives at once. */
struct map_child_in {
    int fd;
    unsigned char buf[16384];
    size_t pos, len;
};

/* n bytes of the request; before waiting for more, the answers so far go
 * out (they may be what the caller waits for). */
static int
map_child_read(struct map_child_in *in, struct map_child_out *o, void *p, size_t n)
{
    ssize_t r;

    while (n > 0) {
        if (in->pos == in->len) {
            map_child_flush(o);
            r = read(in->fd, in->buf, sizeof in->buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return -1;
            in->pos = 0;
            in->len = (size_t)r;
        }
        r = (ssize_t)(in->len - in->pos < n ? in->len - in->pos : n);
        memcpy(p, in->buf + in->pos, (size_t)r);
        in->pos += (size_t)r;
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

static void
map_child_serve(struct lm_map *m, int fd)
{
    struct map_child_out o = { fd, NULL, 0, 0 };
    struct map_child_in *in = malloc(sizeof *in);
    struct lm_diags d;
    unsigned char op, hdr[4];
    char *key = NULL;
    size_t kcap = 0;
    lm_datum k, v;
    int rc;

    lm_diags_init(&d);
    if (m->be->open_ro(m, m->name, &d) != 0) {
        map_child_add_error(&o, &d);
        map_child_flush(&o);
        _exit(0);
    }
    if (in == NULL)
        _exit(71);
    in->fd = fd;
    in->pos = in->len = 0;
    map_child_add(&o, "O", 1);
    map_child_flush(&o);
    while (map_child_read(in, &o, &op, 1) == 0) {
        if (op == 'g') {
            uint32_t len;
            if (map_child_read(in, &o, hdr, 4) != 0)
                break;
            len = map_child_get32(hdr);
            if (len + (size_t)1 > kcap) {
                free(key);
                kcap = (size_t)len + 1;
                if ((key = malloc(kcap)) == NULL)
                    _exit(71);
            }
            if (map_child_read(in, &o, key, len) != 0)
                break;
            k.data = key;
            k.len = len;
            rc = m->be->get(m, &k, &v, &d);
            if (rc == 0) {
                map_child_add(&o, "F", 1);
                map_child_add32(&o, (uint32_t)v.len);
                map_child_add(&o, v.data, v.len);
            } else if (rc == LM_NOTFOUND) {
                map_child_add(&o, "M", 1);
            } else {
                map_child_add_error(&o, &d);
            }
            if (o.len >= MAP_CHILD_FLUSH)
                map_child_flush(&o);
        } else if (op == 'n') {
            while ((rc = m->be->next(m, &k, &v, &d)) == 0) {
                map_child_add(&o, "R", 1);
                map_child_add32(&o, (uint32_t)k.len);
                map_child_add32(&o, (uint32_t)v.len);
                map_child_add(&o, k.data, k.len);
                map_child_add(&o, v.data, v.len);
                if (o.len >= MAP_CHILD_FLUSH)
                    map_child_flush(&o);
            }
            if (rc == LM_NOTFOUND)
                map_child_add(&o, "E", 1);
            else
                map_child_add_error(&o, &d);
            map_child_flush(&o);
        } else {
            break;
        }
    }
    /* Read-only: nothing to flush or close. */
    _exit(0);
}

/* --- the caller's side --------------------------------------------------- */

/* The child failed (how: MAP_CHILD_GONE, _STUCK), or is stopped after an
 * error already recorded (MAP_CHILD_QUIET): reap it, and say why. */
enum { MAP_CHILD_GONE, MAP_CHILD_STUCK, MAP_CHILD_QUIET };

static int
map_child_fail(struct lm_map *m, struct map_child *c, int how, struct lm_diags *d)
{
    int status = 0, sig = 0, timed_out = how == MAP_CHILD_STUCK;

    if (c->pid > 0) {
        if (how != MAP_CHILD_GONE)
            (void)kill(c->pid, SIGKILL);
        while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(status))
            sig = WTERMSIG(status);
        c->pid = 0;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->dead = 1;
    if (how == MAP_CHILD_QUIET)
        return -1;
    if (timed_out)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "cannot read %s: no answer from the %s reader in %d seconds; "
                           "the file is damaged", m->final[0], m->be->info.name,
                           c->timeout_ms / 1000);
    if (sig != 0)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "cannot read %s: the %s reader crashed on it (signal %d); "
                           "the file is damaged", m->final[0], m->be->info.name, sig);
    return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                       "cannot read %s: the reading process stopped (exit %d)",
                       m->final[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* The next n bytes from the child, borrowed until the next call; NULL after
 * recording an error. */
static const unsigned char *
map_child_recv(struct lm_map *m, struct map_child *c, size_t n, struct lm_diags *d)
{
    const unsigned char *p;

    if (c->dead) {
        lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "cannot read %s", m->final[0]);
        return NULL;
    }
    while (c->rlen - c->roff < n) {
        struct pollfd pfd = { c->fd, POLLIN, 0 };
        ssize_t r;
        int pr;

        if (c->roff > 0) {
            memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
            c->rlen -= c->roff;
            c->roff = 0;
        }
        if (c->rcap - c->rlen < MAP_CHILD_FLUSH || c->rcap < n) {
            size_t cap = c->rcap ? c->rcap * 2 : 2 * MAP_CHILD_FLUSH;
            unsigned char *nb;
            while (cap < n)
                cap *= 2;
            if ((nb = realloc(c->rbuf, cap)) == NULL) {
                lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
                return NULL;
            }
            c->rbuf = nb;
            c->rcap = cap;
        }
        pr = poll(&pfd, 1, c->timeout_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            map_child_fail(m, c, MAP_CHILD_STUCK, d);
            return NULL;
        }
        r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            map_child_fail(m, c, MAP_CHILD_GONE, d);
            return NULL;
        }
        c->rlen += (size_t)r;
    }
    p = c->rbuf + c->roff;
    c->roff += n;
    return p;
}

static int
map_child_send(struct lm_map *m, struct map_child *c, const void *p, size_t n,
               struct lm_diags *d)
{
    ssize_t r;

    if (c->dead)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "cannot read %s", m->final[0]);
    while (n > 0) {
        r = send(c->fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return map_child_fail(m, c, MAP_CHILD_GONE, d);
        p = (const char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

/* After 'X': the child's error, passed on. */
static int
map_child_error(struct lm_map *m, struct map_child *c, struct lm_diags *d)
{
    const unsigned char *p = map_child_recv(m, c, 8, d);
    uint32_t code, len;

    if (p == NULL)
        return -1;
    code = map_child_get32(p);
    len = map_child_get32(p + 4);
    if ((p = map_child_recv(m, c, len, d)) == NULL)
        return -1;
    return lm_diag_add(d, LM_ERROR, (int)code, NULL, "%.*s", (int)len, (const char *)p);
}

static int
map_child_copy(char **buf, size_t *cap, const unsigned char *p, size_t n)
{
    if (n + 1 > *cap) {
        char *nb = realloc(*buf, n + 1);
        if (nb == NULL)
            return -1;
        *buf = nb;
        *cap = n + 1;
    }
    if (n)
        memcpy(*buf, p, n);
    return 0;
}

static int
map_child_start(struct lm_map *m, struct map_child *c, struct lm_diags *d)
{
    const char *env = getenv("LIBMAP_READ_TIMEOUT");
    const unsigned char *p;
    unsigned long secs = MAP_CHILD_TIMEOUT;
    struct stat st;
    off_t size = 0;
    int sv[2];
    size_t i;

    if (env != NULL && *env != '\0') {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (*end == '\0' && v > 0 && v < 86400)
            secs = v;
    }
    c->timeout_ms = (int)(secs * 1000);
    c->fd = -1;
    /* Every record takes some bytes of the file: more than that is a loop. */
    for (i = 0; m->final[i] != NULL; i++)
        if (stat(m->final[i], &st) == 0)
            size += st.st_size;
    c->maxrec = (unsigned long)(size / 2) + 64;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot read %s", m->final[0]);
    (void)fcntl(sv[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(sv[1], F_SETFD, FD_CLOEXEC);
    if ((c->pid = fork()) < 0) {
        c->pid = 0;
        close(sv[0]);
        close(sv[1]);
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot read %s", m->final[0]);
    }
    if (c->pid == 0) {
        close(sv[0]);
        map_child_serve(m, sv[1]);
    }
    close(sv[1]);
    c->fd = sv[0];
    if ((p = map_child_recv(m, c, 1, d)) == NULL)
        return -1;
    if (*p == 'O')
        return 0;
    if (*p == 'X')
        map_child_error(m, c, d);
    else
        lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "cannot read %s: bad answer", m->final[0]);
    (void)map_child_fail(m, c, MAP_CHILD_QUIET, d);
    return -1;
}

static int
map_child_lookup(struct lm_map *m, struct map_child *c, const lm_datum *key, lm_datum *val,
                 struct lm_diags *d)
{
    unsigned char hdr[5];
    const unsigned char *p;
    uint32_t len;

    if (c->streaming)
        return lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL,
                           "%s: a lookup while the map is being listed", m->final[0]);
    if (key->len > UINT32_MAX)
        return LM_NOTFOUND;
    hdr[0] = 'g';
    map_child_put32(hdr + 1, (uint32_t)key->len);
    if (map_child_send(m, c, hdr, 5, d) != 0 || map_child_send(m, c, key->data, key->len, d) != 0)
        return -1;
    if ((p = map_child_recv(m, c, 1, d)) == NULL)
        return -1;
    if (*p == 'M')
        return LM_NOTFOUND;
    if (*p == 'X')
        return map_child_error(m, c, d);
    if (*p != 'F' || (p = map_child_recv(m, c, 4, d)) == NULL)
        return p == NULL ? -1 : map_child_fail(m, c, MAP_CHILD_STUCK, d);
    len = map_child_get32(p);
    if ((p = map_child_recv(m, c, len, d)) == NULL)
        return -1;
    if (map_child_copy(&c->vbuf, &c->vcap, p, len) != 0)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    val->data = c->vbuf;
    val->len = len;
    return 0;
}

static int
map_child_next(struct lm_map *m, struct map_child *c, lm_datum *key, lm_datum *val,
               struct lm_diags *d)
{
    const unsigned char *p;
    uint32_t kl, vl;

    if (!c->streaming) {
        if (map_child_send(m, c, "n", 1, d) != 0)
            return -1;
        c->streaming = 1;
    }
    if ((p = map_child_recv(m, c, 1, d)) == NULL)
        return -1;
    if (*p == 'E') {
        c->streaming = 0;
        return LM_NOTFOUND;
    }
    if (*p == 'X')
        return map_child_error(m, c, d);
    if (*p != 'R' || (p = map_child_recv(m, c, 8, d)) == NULL)
        return p == NULL ? -1 : map_child_fail(m, c, MAP_CHILD_STUCK, d);
    if (++c->nrec > c->maxrec) {
        (void)map_child_fail(m, c, MAP_CHILD_QUIET, d);
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "%s is damaged: it yields more records than it can hold "
                           "(the %s reader loops)", m->final[0], m->be->info.name);
    }
    kl = map_child_get32(p);
    vl = map_child_get32(p + 4);
    if ((p = map_child_recv(m, c, (size_t)kl + vl, d)) == NULL)
        return -1;
    if (map_child_copy(&c->kbuf, &c->kcap, p, kl) != 0
        || map_child_copy(&c->vbuf, &c->vcap, p + kl, vl) != 0)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    key->data = c->kbuf;
    key->len = kl;
    val->data = c->vbuf;
    val->len = vl;
    return 0;
}

/* Requests for a batch: sent while reading whatever answers are already
 * there, so that neither side blocks on a full socket. */
static int
map_child_send_draining(struct lm_map *m, struct map_child *c, const void *p, size_t n,
                        struct lm_diags *d)
{
    while (n > 0) {
        struct pollfd pfd = { c->fd, POLLOUT | POLLIN, 0 };
        ssize_t r;
        int pr = poll(&pfd, 1, c->timeout_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            return map_child_fail(m, c, MAP_CHILD_STUCK, d);
        if (pfd.revents & POLLIN) {
            if (c->rcap - c->rlen < MAP_CHILD_FLUSH) {
                unsigned char *nb = realloc(c->rbuf, c->rcap ? 2 * c->rcap : 2 * MAP_CHILD_FLUSH);
                if (nb == NULL)
                    return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
                c->rbuf = nb;
                c->rcap = c->rcap ? 2 * c->rcap : 2 * MAP_CHILD_FLUSH;
            }
            r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                return map_child_fail(m, c, MAP_CHILD_GONE, d);
            if (r > 0)
                c->rlen += (size_t)r;
            continue;
        }
        if (pfd.revents & (POLLERR | POLLHUP))
            return map_child_fail(m, c, MAP_CHILD_GONE, d);
        r = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r <= 0)
            return map_child_fail(m, c, MAP_CHILD_GONE, d);
        p = (const char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

/* lm_map_get_each for a map read through a child: every request first, then
 * every answer, in order. */
static int
map_child_get_each(struct lm_map *m, struct map_child *c, const lm_datum *keys, size_t n,
                   int (*each)(void *, size_t, int, const lm_datum *), void *arg,
                   struct lm_diags *d)
{
    unsigned char *req = NULL;
    size_t i, len = 0, cap = 0;
    int rc = 0;

    if (c->streaming)
        return lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL,
                           "%s: a lookup while the map is being listed", m->final[0]);
    for (i = 0; i < n; i++) {
        if (keys[i].len > UINT32_MAX - 16)
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "key too long");
        if (len + 5 + keys[i].len > cap) {
            size_t ncap = 2 * (len + 5 + keys[i].len) + 4096;
            unsigned char *nr = realloc(req, ncap);
            if (nr == NULL) {
                free(req);
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            }
            req = nr;
            cap = ncap;
        }
        req[len] = 'g';
        map_child_put32(req + len + 1, (uint32_t)keys[i].len);
        if (keys[i].len)
            memcpy(req + len + 5, keys[i].data, keys[i].len);
        len += 5 + keys[i].len;
    }
    if (len > 0 && map_child_send_draining(m, c, req, len, d) != 0) {
        free(req);
        return -1;
    }
    free(req);
    for (i = 0; i < n && rc == 0; i++) {
        const unsigned char *p = map_child_recv(m, c, 1, d);
        lm_datum v;
        uint32_t vl;
        if (p == NULL)
            return -1;
        if (*p == 'M') {
            rc = each(arg, i, LM_NOTFOUND, NULL);
            continue;
        }
        if (*p == 'X')
            return map_child_error(m, c, d);
        if (*p != 'F' || (p = map_child_recv(m, c, 4, d)) == NULL)
            return p == NULL ? -1 : map_child_fail(m, c, MAP_CHILD_STUCK, d);
        vl = map_child_get32(p);
        if ((p = map_child_recv(m, c, vl, d)) == NULL)
            return -1;
        v.data = vl ? (const void *)p : "";
        v.len = vl;
        rc = each(arg, i, 0, &v);
    }
    /* A callback that stopped early leaves answers unread: drop them. */
    for (; i < n; i++) {
        const unsigned char *p = map_child_recv(m, c, 1, d);
        if (p == NULL)
            return -1;
        if (*p == 'X')
            return map_child_error(m, c, d);
        if (*p == 'F' && ((p = map_child_recv(m, c, 4, d)) == NULL
                          || map_child_recv(m, c, map_child_get32(p), d) == NULL))
            return -1;
    }
    return rc;
}

static void
map_child_stop(struct map_child *c)
{
    if (c->pid > 0) {
        /* Read-only, nothing to lose: it may also be stuck in a loop. */
        (void)kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        c->pid = 0;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->rbuf);
    free(c->kbuf);
    free(c->vbuf);
    c->rbuf = NULL;
    c->kbuf = c->vbuf = NULL;
}

static struct lm_map *
map_new(const struct lm_backend *be, const char *name, struct lm_diags *d)
{
    struct lm_map *m;
    size_t n, i;

    if ((m = calloc(1, map_child_type(be) ? map_child_offset(be) + sizeof(struct map_child)
                                          : be->size)) == NULL)
        goto nomem;
    m->be = be;
    if ((m->name = map_base_of(be, name)) == NULL)
        goto nomem;
    for (n = 0; be->suffixes[n] != NULL; n++)
        ;
    if ((m->final = calloc(n + 1, sizeof *m->final)) == NULL)
        goto nomem;
    for (i = 0; i < n; i++)
        if ((m->final[i] = lm_str_join(m->name, be->suffixes[i], "")) == NULL)
            goto nomem;
    return m;
nomem:
    lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    lm_map_close(m);
    return NULL;
}

static const struct lm_backend *
map_need_backend(const char *type, struct lm_diags *d)
{
    const struct lm_backend *be = lm_backend_find(type);

    if (be == NULL)
        lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                    "unknown map type \"%s\" (mapc -l lists the types built in)",
                    type ? type : "");
    return be;
}

struct lm_map *
lm_map_create(const char *type, const char *name, const struct lm_map_opts *opts,
              struct lm_diags *d)
{
    const struct lm_backend *be = map_need_backend(type, d);
    struct lm_map *m;
    unsigned aflags = 0;
    char *tmpbase;
    const char *slash;
    int rc;

    if (be == NULL || (m = map_new(be, name, d)) == NULL)
        return NULL;
    if (opts != NULL)
        m->opts = *opts;
    if ((m->opts.flags & LM_CREATE_DUPS) && !(be->info.caps & LM_CAP_DUPS)) {
        lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                    "map type %s cannot hold duplicate keys", be->info.name);
        lm_map_close(m);
        return NULL;
    }
    if (m->opts.flags & LM_CREATE_NOWAIT)
        aflags |= LM_ATOMIC_NOWAIT;
    if (m->opts.flags & LM_CREATE_UNSAFE)
        aflags |= LM_ATOMIC_UNSAFE;
    /* A map of several files (dbm's .dir and .pag) is published as a set. */
    aflags |= LM_ATOMIC_SET;
    if ((m->out = lm_atomic_begin((const char *const *)m->final, aflags, d)) == NULL) {
        lm_map_close(m);
        return NULL;
    }
    slash = strrchr(m->name, '/');
    if ((tmpbase = lm_str_join(lm_atomic_dir(m->out), "/", slash ? slash + 1 : m->name)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        lm_map_close(m);
        return NULL;
    }
    m->state = LM_ST_BUILDING;
    rc = be->create(m, tmpbase, d);
    free(tmpbase);
    if (rc != 0) {
        m->state = LM_ST_ABORTED;
        lm_map_close(m);
        return NULL;
    }
    return m;
}

struct lm_map *
lm_map_open(const char *type, const char *name, struct lm_diags *d)
{
    const struct lm_backend *be = map_need_backend(type, d);
    struct lm_map *m;
    struct stat st;

    if (be == NULL || (m = map_new(be, name, d)) == NULL)
        return NULL;
    if (stat(m->final[0], &st) != 0) {
        lm_diag_sys(d, errno == ENOENT ? LM_E_NOINPUT : LM_E_IO, errno, NULL,
                    "cannot open %s", m->final[0]);
        lm_map_close(m);
        return NULL;
    }
    m->state = LM_ST_READ;
    if (map_child_type(be)) {
        struct map_child *c = (struct map_child *)(void *)((char *)m + map_child_offset(be));
        if (map_child_start(m, c, d) != 0) {
            map_child_stop(c);
            m->state = LM_ST_ABORTED;
            lm_map_close(m);
            return NULL;
        }
        return m;
    }
    if (be->open_ro(m, m->name, d) != 0) {
        m->state = LM_ST_ABORTED;
        lm_map_close(m);
        return NULL;
    }
    return m;
}

int
lm_map_put(struct lm_map *m, const lm_datum *key, const lm_datum *val,
           enum lm_put_mode mode, struct lm_diags *d)
{
    assert(m != NULL && m->state == LM_ST_BUILDING);
    assert(mode != LM_PUT_APPEND || (m->opts.flags & LM_CREATE_DUPS));
    return m->be->put(m, key, val, mode, d);
}

int
lm_map_get(struct lm_map *m, const lm_datum *key, lm_datum *val, struct lm_diags *d)
{
    int rc;

    assert(m != NULL && (m->state == LM_ST_READ || m->state == LM_ST_BUILDING));
    if (m->be->get == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "map type %s does not support lookups", m->be->info.name);
    rc = map_child_of(m) != NULL ? map_child_lookup(m, map_child_of(m), key, val, d)
                                 : m->be->get(m, key, val, d);
    if (rc == 0 && val->len == 0)
        val->data = "";         /* some libraries hand out NULL for an empty value */
    return rc;
}

/* Internal to libmap (compile.c's lm_lookup_many); its place is internal.h.
 * Look up N keys and call each(arg, i, rc, val) for every one in order: rc
 * 0 (val borrowed for the call) or LM_NOTFOUND (val NULL).  A map read
 * through a child process gets every request at once and answers in one
 * round trip, instead of one per key.  Returns 0, -1 after an error, or the
 * first non-zero value of each (which stops the calls). */
int lm_map_get_each(struct lm_map *m, const lm_datum *keys, size_t n,
                    int (*each)(void *, size_t, int, const lm_datum *), void *arg,
                    struct lm_diags *d);

int
lm_map_get_each(struct lm_map *m, const lm_datum *keys, size_t n,
                int (*each)(void *, size_t, int, const lm_datum *), void *arg,
                struct lm_diags *d)
{
    size_t i;
    int rc;

    if (map_child_of(m) != NULL)
        return map_child_get_each(m, map_child_of(m), keys, n, each, arg, d);
    for (i = 0; i < n; i++) {
        lm_datum v;
        if ((rc = lm_map_get(m, &keys[i], &v, d)) < 0)
            return -1;
        if ((rc = each(arg, i, rc, rc == 0 ? &v : NULL)) != 0)
            return rc;
    }
    return 0;
}

int
lm_map_next(struct lm_map *m, lm_datum *key, lm_datum *val, struct lm_diags *d)
{
    int rc;

    assert(m != NULL && m->state == LM_ST_READ);
    if (m->be->next == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "map type %s cannot be listed", m->be->info.name);
    rc = map_child_of(m) != NULL ? map_child_next(m, map_child_of(m), key, val, d)
                                 : m->be->next(m, key, val, d);
    if (rc == 0) {
        if (key->len == 0)
            key->data = "";
        if (val->len == 0)
            val->data = "";
    }
    return rc;
}

int
lm_map_finish(struct lm_map *m, struct lm_diags *d)
{
    assert(m != NULL && m->state == LM_ST_BUILDING);
    if (m->be->finish(m, d) != 0) {
        m->state = LM_ST_ABORTED;
        return -1;
    }
    m->state = LM_ST_FINISHED;
    return 0;
}

int
lm_map_commit(struct lm_map *m, struct lm_diags *d)
{
    int rc = 0;

    assert(m != NULL && (m->state == LM_ST_BUILDING || m->state == LM_ST_FINISHED));
    if (m->state == LM_ST_BUILDING)
        rc = lm_map_finish(m, d);
    if (rc == 0)
        rc = lm_atomic_commit(m->out, d);
    m->state = rc == 0 ? LM_ST_COMMITTED : LM_ST_ABORTED;
    return rc;
}

const char *const *
lm_map_files(const struct lm_map *m)
{
    return (const char *const *)m->final;
}

void
lm_map_close(struct lm_map *m)
{
    size_t i;

    if (m == NULL)
        return;
    if (map_child_of(m) != NULL)
        map_child_stop(map_child_of(m));
    else if (m->state == LM_ST_READ || m->state == LM_ST_BUILDING)
        m->be->close(m);
    lm_atomic_end(m->out);
    if (m->final != NULL)
        for (i = 0; m->final[i] != NULL; i++)
            free(m->final[i]);
    free(m->final);
    free(m->name);
    free(m);
}
