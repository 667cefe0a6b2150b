/*
 * measure.c - run one command and report what it cost, for bench/run.sh:
 *
 *   measure [-i IN] [-o OUT] -- PROG ARG...
 *
 * Standard input and output of PROG come from IN and go to OUT (default
 * /dev/null for both); its standard error is passed through.  One line on
 * standard output: "WALL USER SYS MAXRSS_KB STATUS", times in seconds.
 * Resource usage is that of every process PROG started and waited for
 * (RUSAGE_CHILDREN), so a tool that forks is measured whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
measure_tv(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int
measure_redirect(const char *path, int fd, int flags)
{
    int f = open(path, flags, 0644);

    if (f < 0 || dup2(f, fd) < 0) {
        fprintf(stderr, "measure: %s: %s\n", path, strerror(errno));
        return -1;
    }
    close(f);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *in = "/dev/null", *out = "/dev/null";
    struct timespec t0, t1;
    struct rusage ru;
    int i = 1, status;
    pid_t pid;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "-i") == 0)
            in = argv[++i];
        else if (strcmp(argv[i], "-o") == 0)
            out = argv[++i];
        else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: measure [-i IN] [-o OUT] -- PROG ARG...\n");
        return 64;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((pid = fork()) < 0) {
        perror("measure: fork");
        return 71;
    }
    if (pid == 0) {
        if (measure_redirect(in, 0, O_RDONLY) != 0
            || measure_redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC) != 0)
            _exit(127);
        execvp(argv[i], argv + i);
        fprintf(stderr, "measure: %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("measure: waitpid");
            return 71;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("%.4f %.4f %.4f %ld %d\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           measure_tv(ru.ru_utime), measure_tv(ru.ru_stime), ru.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
