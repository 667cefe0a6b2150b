/*
 * smtpconn.c - a byte stream to an SMTP server with a deadline on every
 * operation: TCP (IPv4/IPv6, optional source address), a UNIX socket, or a
 * child process spoken to over its stdin/stdout.
 *
 * Descriptors are non-blocking and every wait goes through poll(), so a
 * server that stalls costs at most the timeout.  Replies are parsed here
 * (multi-line, code on each line); a line longer than the buffer is cut,
 * not an error, and a reply of more than LM_SMTP_MAXLINES lines is garbage.
 */
#include "libmap/relaytest.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long
smtpconn_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline, at least 0. */
static int
smtpconn_left(long deadline)
{
    long left = deadline - smtpconn_now_ms();

    return left > 0 ? (int)left : 0;
}

static void smtpconn_fail(struct lm_smtp_conn *c, int errnum, const char *fmt, ...)
    LM_PRINTF(3, 4);

/* Record why an operation failed, with strerror(errnum) when not 0. */
static void
smtpconn_fail(struct lm_smtp_conn *c, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    n = strlen(c->err);
    if (errnum != 0 && n < sizeof c->err)
        snprintf(c->err + n, sizeof c->err - n, ": %s", strerror(errnum));
}

static int
smtpconn_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int
smtpconn_wait(int fd, short events, long deadline)
{
    struct pollfd p;
    int n;

    for (;;) {
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        n = poll(&p, 1, smtpconn_left(deadline));
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

int
lm_smtp_parse_hostport(const char *spec, char **host, char **port, struct lm_diags *d)
{
    const char *colon, *end, *p = NULL;
    char qb[LM_QUOTE_BUF];

    *host = *port = NULL;
    if (spec == NULL || *spec == '\0')
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "empty server address");
    if (*spec == '[') {
        end = strchr(spec, ']');
        if (end == NULL || end == spec + 1 || (end[1] != '\0' && end[1] != ':')
            || (end[1] == ':' && end[2] == '\0'))
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "bad server address %s: "
                               "write [ADDRESS]:PORT",
                               lm_quote(qb, spec, strlen(spec), LM_QUOTE_MAX));
        *host = strndup(spec + 1, (size_t)(end - spec - 1));
        if (end[1] == ':')
            p = end + 2;
    } else if ((colon = strchr(spec, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
        if (colon == spec || colon[1] == '\0')
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "bad server address %s: "
                               "write HOST:PORT",
                               lm_quote(qb, spec, strlen(spec), LM_QUOTE_MAX));
        *host = strndup(spec, (size_t)(colon - spec));
        p = colon + 1;
    } else {
        /* No colon, or several: a host name or a bare IPv6 address. */
        *host = strdup(spec);
    }
    if (p != NULL) {
        /* A number is a port (1-65535); anything else a service name. */
        size_t digits = strspn(p, "0123456789");
        if (digits > 0 && p[digits] == '\0'
            && (digits > 5 || strtoul(p, NULL, 10) == 0 || strtoul(p, NULL, 10) > 65535)) {
            free(*host);
            *host = NULL;
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "bad port %s: want 1 to 65535 "
                               "or a service name", lm_quote(qb, p, strlen(p), LM_QUOTE_MAX));
        }
        if (p[strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")]
            != '\0') {
            free(*host);
            *host = NULL;
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "bad port %s: want 1 to 65535 "
                               "or a service name", lm_quote(qb, p, strlen(p), LM_QUOTE_MAX));
        }
        *port = strdup(p);
    }
    if (*host == NULL || (p != NULL && *port == NULL)) {
        free(*host);
        free(*port);
        *host = *port = NULL;
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    return 0;
}

static void
smtpconn_numeric(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
    if (getnameinfo(sa, len, out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST) != 0)
        out[0] = '\0';
}

/* Non-blocking connect with a deadline: 0, or an errno value (ETIMEDOUT). */
static int
smtpconn_connect_fd(int fd, const struct sockaddr *sa, socklen_t len, long deadline)
{
    int err = 0, w;
    socklen_t elen = sizeof err;

    if (connect(fd, sa, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return errno;
    w = smtpconn_wait(fd, POLLOUT, deadline);
    if (w == 0)
        return ETIMEDOUT;
    if (w < 0)
        return errno;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return errno;
    return err;
}

static int
smtpconn_open_tcp(struct lm_smtp_conn *c, const struct lm_smtp_target *t, long deadline)
{
    struct addrinfo hints, *res = NULL, *ai, *src = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen;
    const char *port = t->port != NULL ? t->port : "25";
    int fd = -1, err = 0, gai, timed_out = 0;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(t->host, port, &hints, &res);
    if (gai != 0) {
        snprintf(c->err, sizeof c->err, "cannot resolve %s port %s: %s", t->host, port,
                 gai_strerror(gai));
        return LM_SMTP_ECONNECT;
    }
    if (t->source != NULL) {
        hints.ai_flags = AI_PASSIVE;
        gai = getaddrinfo(t->source, NULL, &hints, &src);
        if (gai != 0) {
            snprintf(c->err, sizeof c->err, "cannot resolve source address %s: %s",
                     t->source, gai_strerror(gai));
            freeaddrinfo(res);
            return LM_SMTP_ECONNECT;
        }
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if (src != NULL && src->ai_family != ai->ai_family)
            continue;
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (smtpconn_nonblock(fd) < 0
            || (src != NULL && bind(fd, src->ai_addr, src->ai_addrlen) < 0)) {
            err = errno;
            if (src != NULL)
                smtpconn_fail(c, err, "cannot bind source address %s", t->source);
            close(fd);
            fd = -1;
            continue;
        }
        err = smtpconn_connect_fd(fd, ai->ai_addr, ai->ai_addrlen, deadline);
        if (err == 0)
            break;
        timed_out = err == ETIMEDOUT;
        close(fd);
        fd = -1;
        if (smtpconn_left(deadline) == 0)
            break;
    }
    if (fd < 0) {
        if (err != 0 && c->err[0] == '\0')
            snprintf(c->err, sizeof c->err, "cannot connect to %s port %s: %s",
                     t->host, port, strerror(err));
        else if (c->err[0] == '\0')
            snprintf(c->err, sizeof c->err, "cannot connect to %s port %s: %s", t->host,
                     port, src != NULL ? "no address of the source's family" : "no address");
        freeaddrinfo(res);
        if (src != NULL)
            freeaddrinfo(src);
        return timed_out ? LM_SMTP_ETIMEOUT : LM_SMTP_ECONNECT;
    }
    sslen = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0)
        smtpconn_numeric((struct sockaddr *)&ss, sslen, c->peer_ip, sizeof c->peer_ip);
    sslen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
        smtpconn_numeric((struct sockaddr *)&ss, sslen, c->local_ip, sizeof c->local_ip);
    freeaddrinfo(res);
    if (src != NULL)
        freeaddrinfo(src);
    c->rfd = c->wfd = fd;
    c->is_socket = 1;
    return LM_SMTP_OK;
}

static int
smtpconn_open_unix(struct lm_smtp_conn *c, const struct lm_smtp_target *t, long deadline)
{
    struct sockaddr_un sun;
    int fd, err;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(t->path) >= sizeof sun.sun_path) {
        smtpconn_fail(c, 0, "socket path too long: %s", t->path);
        return LM_SMTP_ECONNECT;
    }
    strcpy(sun.sun_path, t->path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || smtpconn_nonblock(fd) < 0) {
        smtpconn_fail(c, errno, "cannot create a socket");
        if (fd >= 0)
            close(fd);
        return LM_SMTP_ECONNECT;
    }
    err = smtpconn_connect_fd(fd, (struct sockaddr *)&sun, sizeof sun, deadline);
    if (err != 0) {
        smtpconn_fail(c, err, "cannot connect to %s", t->path);
        close(fd);
        return err == ETIMEDOUT ? LM_SMTP_ETIMEOUT : LM_SMTP_ECONNECT;
    }
    c->rfd = c->wfd = fd;
    c->is_socket = 1;
    return LM_SMTP_OK;
}

static int
smtpconn_open_pipe(struct lm_smtp_conn *c, const struct lm_smtp_target *t)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    pid_t pid;

    if (pipe(in) < 0 || pipe(out) < 0) {
        smtpconn_fail(c, errno, "cannot create a pipe");
        goto fail;
    }
    pid = fork();
    if (pid < 0) {
        smtpconn_fail(c, errno, "cannot start %s", t->command);
        goto fail;
    }
    if (pid == 0) {
        /* Child: its own process group, so that a stuck command and its
         * children can be killed together; stderr stays the caller's. */
        setpgid(0, 0);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
            _exit(127);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", t->command, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(in[0]);
    close(out[1]);
    if (smtpconn_nonblock(in[1]) < 0 || smtpconn_nonblock(out[0]) < 0) {
        smtpconn_fail(c, errno, "cannot set up the pipe");
        close(in[1]);
        close(out[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return LM_SMTP_ECONNECT;
    }
    c->wfd = in[1];
    c->rfd = out[0];
    c->pid = pid;
    return LM_SMTP_OK;
fail:
    if (in[0] >= 0) {
        close(in[0]);
        close(in[1]);
    }
    if (out[0] >= 0) {
        close(out[0]);
        close(out[1]);
    }
    return LM_SMTP_ECONNECT;
}

int
lm_smtp_open(struct lm_smtp_conn *c, const struct lm_smtp_target *t, int timeout_ms)
{
    long deadline = smtpconn_now_ms() + timeout_ms;

    memset(c, 0, sizeof *c);
    c->rfd = c->wfd = -1;
    switch (t->kind) {
    case LM_SMTP_TCP:
        return smtpconn_open_tcp(c, t, deadline);
    case LM_SMTP_UNIX:
        return smtpconn_open_unix(c, t, deadline);
    case LM_SMTP_PIPE:
        return smtpconn_open_pipe(c, t);
    }
    smtpconn_fail(c, 0, "unknown transport");
    return LM_SMTP_ECONNECT;
}

int
lm_smtp_send(struct lm_smtp_conn *c, const char *line, int timeout_ms)
{
    long deadline = smtpconn_now_ms() + timeout_ms;
    size_t len = strlen(line), off = 0;
    char *msg;
    ssize_t n;
    int w;

    if (c->wfd < 0) {
        smtpconn_fail(c, 0, "connection closed");
        return LM_SMTP_EDROPPED;
    }
    msg = malloc(len + 3);
    if (msg == NULL) {
        smtpconn_fail(c, 0, "out of memory");
        return LM_SMTP_EPROTOCOL;
    }
    memcpy(msg, line, len);
    memcpy(msg + len, "\r\n", 3);
    len += 2;
    while (off < len) {
        /* MSG_NOSIGNAL: a peer that went away is an error, not a signal. */
        if (c->is_socket)
            n = send(c->wfd, msg + off, len - off, MSG_NOSIGNAL);
        else
            n = write(c->wfd, msg + off, len - off);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            w = smtpconn_wait(c->wfd, POLLOUT, deadline);
            if (w > 0)
                continue;
            if (w == 0)
                smtpconn_fail(c, 0, "timed out sending a command");
            else
                smtpconn_fail(c, errno, "cannot send");
            free(msg);
            return w == 0 ? LM_SMTP_ETIMEOUT : LM_SMTP_EDROPPED;
        }
        smtpconn_fail(c, n < 0 ? errno : 0, "connection lost while sending");
        free(msg);
        return LM_SMTP_EDROPPED;
    }
    free(msg);
    return LM_SMTP_OK;
}

/* Fill the buffer until it holds a LF, within deadline.  Returns the length
 * of the line including LF; a full buffer without LF counts as a line. */
static int
smtpconn_fill_line(struct lm_smtp_conn *c, long deadline, size_t *linelen)
{
    char *lf;
    ssize_t n;
    int w;

    for (;;) {
        lf = memchr(c->buf, '\n', c->len);
        if (lf != NULL) {
            *linelen = (size_t)(lf - c->buf) + 1;
            return LM_SMTP_OK;
        }
        if (c->len == sizeof c->buf) {
            *linelen = c->len;
            return LM_SMTP_OK;
        }
        n = read(c->rfd, c->buf + c->len, sizeof c->buf - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n == 0) {
            smtpconn_fail(c, 0, "the server closed the connection%s",
                          c->len > 0 ? " in the middle of a line" : "");
            return LM_SMTP_EDROPPED;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            smtpconn_fail(c, errno, "connection lost");
            return LM_SMTP_EDROPPED;
        }
        w = smtpconn_wait(c->rfd, POLLIN, deadline);
        if (w == 0) {
            smtpconn_fail(c, 0, "timed out waiting for the server's reply");
            return LM_SMTP_ETIMEOUT;
        }
        if (w < 0) {
            smtpconn_fail(c, errno, "connection lost");
            return LM_SMTP_EDROPPED;
        }
    }
}

static int
smtpconn_append(struct lm_smtp_reply *r, const char *line, size_t len)
{
    size_t old = r->text != NULL ? strlen(r->text) : 0;
    char *t = realloc(r->text, old + len + 2);
    size_t i;

    if (t == NULL)
        return -1;
    if (old > 0)
        t[old++] = '\n';
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        /* Keep the text printable: it ends up in tables and JSON. */
        t[old + i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    t[old + len] = '\0';
    r->text = t;
    r->nlines++;
    return 0;
}

int
lm_smtp_read_reply(struct lm_smtp_conn *c, struct lm_smtp_reply *r, int timeout_ms)
{
    long deadline = smtpconn_now_ms() + timeout_ms;
    size_t linelen, len;
    char *line, q[LM_QUOTE_BUF];
    int rc, code, last, skipped = 0;

    r->code = 0;
    r->text = NULL;
    r->nlines = 0;
    if (c->rfd < 0) {
        smtpconn_fail(c, 0, "connection closed");
        return LM_SMTP_EDROPPED;
    }
    for (;;) {
        rc = smtpconn_fill_line(c, deadline, &linelen);
        if (rc != LM_SMTP_OK)
            break;
        line = c->buf;
        len = linelen;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9'
            || line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
            if (c->skip_noise && r->nlines == 0 && skipped++ < LM_SMTP_MAXLINES
                && (linelen == 0 || c->buf[linelen - 1] == '\n')) {
                memmove(c->buf, c->buf + linelen, c->len - linelen);
                c->len -= linelen;
                continue;
            }
            snprintf(c->err, sizeof c->err, "not an SMTP reply: %s",
                     lm_quote(q, line, len, 60));
            rc = LM_SMTP_EPROTOCOL;
            break;
        }
        code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        last = len == 3 || line[3] == ' ';
        if (r->nlines > 0 && code != r->code) {
            snprintf(c->err, sizeof c->err, "reply code changes from %d to %d inside a "
                     "multi-line reply", r->code, code);
            rc = LM_SMTP_EPROTOCOL;
            break;
        }
        r->code = code;
        if (smtpconn_append(r, line, len) < 0) {
            snprintf(c->err, sizeof c->err, "out of memory");
            rc = LM_SMTP_EPROTOCOL;
            break;
        }
        if (linelen == sizeof c->buf && c->buf[linelen - 1] != '\n') {
            /* An over-long line: keep what fits, skip the rest. */
            c->len = 0;
            for (;;) {
                rc = smtpconn_fill_line(c, deadline, &linelen);
                if (rc != LM_SMTP_OK || c->buf[linelen - 1] == '\n')
                    break;
                c->len = 0;
            }
            if (rc != LM_SMTP_OK)
                break;
        }
        memmove(c->buf, c->buf + linelen, c->len - linelen);
        c->len -= linelen;
        if (last)
            return LM_SMTP_OK;
        if (r->nlines >= LM_SMTP_MAXLINES) {
            snprintf(c->err, sizeof c->err, "reply longer than %d lines", LM_SMTP_MAXLINES);
            rc = LM_SMTP_EPROTOCOL;
            break;
        }
    }
    /* Keep what arrived for the message, but a broken reply has no code. */
    r->code = 0;
    return rc;
}

void
lm_smtp_reply_fini(struct lm_smtp_reply *r)
{
    if (r == NULL)
        return;
    free(r->text);
    r->text = NULL;
    r->code = 0;
    r->nlines = 0;
}

void
lm_smtp_close(struct lm_smtp_conn *c, int timeout_ms)
{
    long deadline = smtpconn_now_ms() + timeout_ms;
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    int status;

    if (c->rfd >= 0)
        close(c->rfd);
    if (c->wfd >= 0 && c->wfd != c->rfd)
        close(c->wfd);
    c->rfd = c->wfd = -1;
    c->len = 0;
    if (c->pid > 0) {
        /* The child saw end of input; give it the timeout to finish. */
        while (waitpid(c->pid, &status, WNOHANG) == 0) {
            if (smtpconn_left(deadline) == 0) {
                kill(-c->pid, SIGKILL);
                kill(c->pid, SIGKILL);
                waitpid(c->pid, &status, 0);
                break;
            }
            nanosleep(&ts, NULL);
        }
        c->pid = 0;
    }
}
