/*
 * relayconv - translate a relay policy between formats and prove the result
 * decides every transaction alike; verify two policies; answer what-if
 * questions; lint.  All logic is in libmap (convert.h, policy.h); this file
 * parses options, prints, and maps results to sysexits codes (relayconv(8)).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "libmap/convert.h"
#include "tools/tool.h"

enum { OPT_LOSSY = 256, OPT_WIDEN, OPT_JSON, OPT_VERIFY, OPT_DECIDE, OPT_LINT, OPT_LIST,
       OPT_CLIENT, OPT_HOST, OPT_IDENT, OPT_HELP, OPT_STRICT_LOOPBACK, OPT_SERVER,
       OPT_AUTH, OPT_SERVER_DIR, OPT_TABLE_TYPE, OPT_REG_VERSION, OPT_VERSION,
       OPT_IF_CHANGED };

static const struct option rc_longopts[] = {
    { "from", required_argument, NULL, 'f' },   { "to", required_argument, NULL, 't' },
    { "format", required_argument, NULL, 'F' }, { "output", required_argument, NULL, 'o' },
    { "nowait", no_argument, NULL, 'n' },       { "quiet", no_argument, NULL, 'q' },       { "lossy", no_argument, NULL, OPT_LOSSY },
    { "allow-widening", no_argument, NULL, OPT_WIDEN },
    { "strict-loopback", no_argument, NULL, OPT_STRICT_LOOPBACK },
    { "json", no_argument, NULL, OPT_JSON },    { "verify", no_argument, NULL, OPT_VERIFY },
    { "decide", no_argument, NULL, OPT_DECIDE },{ "lint", no_argument, NULL, OPT_LINT },
    { "list", no_argument, NULL, OPT_LIST },    { "client", required_argument, NULL, OPT_CLIENT },
    { "host", required_argument, NULL, OPT_HOST },
    { "ident", required_argument, NULL, OPT_IDENT },
    { "server", required_argument, NULL, OPT_SERVER },
    { "authenticated", no_argument, NULL, OPT_AUTH },
    { "server-dir", required_argument, NULL, OPT_SERVER_DIR },
    { "postfix-dir", required_argument, NULL, OPT_SERVER_DIR },
    { "table-type", required_argument, NULL, OPT_TABLE_TYPE },
    { "reg-version", required_argument, NULL, OPT_REG_VERSION },
    { "if-changed", no_argument, NULL, OPT_IF_CHANGED },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 }
};

static void
rc_help(void)
{
    printf("usage: relayconv [-q] [--from FMT] --to FMT [-o OUT] [--lossy [--allow-widening]] "
           "[--strict-loopback] [--json]\n"
           "                 [--if-changed]"
           " [--server-dir DIR] [--table-type TYPE] [--reg-version 4|5] FILE...\n"
           "       relayconv --verify [-q] [-F FMT] [--strict-loopback] [--json] A B\n"
           "       relayconv --decide [-F FMT] --client IP [--host NAME] [--from ADDR] "
           "[--to ADDR]\n"
           "                 [--ident USER] [--server IP] [--authenticated] FILE...\n"
           "       relayconv --lint [-F FMT] FILE...\n"
           "       relayconv --list\n"
           "See relayconv(8).\n");
}

int
main(int argc, char **argv)
{
    struct lm_convert_opts o;
    struct lm_convert_report rep;
    struct lm_query q;
    struct lm_diags d;
    const char *fmt = NULL, *client = NULL, *server = NULL;
    const char *copts[2] = { NULL, NULL };     /* the target's settings */
    char regver[32];
    size_t nw = 0;
    int c, json = 0, mode = 0, quiet = 0, rc;

    tool_init(argv[0], "[--from FMT] --to FMT [options] FILE..., or --verify|--decide|--lint|--list");
    memset(&o, 0, sizeof o);
    memset(&q, 0, sizeof q);
    while ((c = getopt_long(argc, argv, ":f:t:F:o:nq", rc_longopts, NULL)) != -1) {
        switch (c) {
        case 'f': o.from = optarg; break;
        case 't': o.to = optarg; break;
        case 'F': fmt = optarg; break;
        case 'o': o.output = optarg; break;
        case 'n': o.flags |= LM_CV_NOWAIT; break;
        case 'q': quiet = 1; break;
        case OPT_LOSSY: o.flags |= LM_CV_LOSSY; break;
        case OPT_WIDEN: o.flags |= LM_CV_ALLOW_WIDENING; break;
        case OPT_IF_CHANGED: o.flags |= LM_CV_IF_CHANGED; break;
        case OPT_STRICT_LOOPBACK: o.flags |= LM_CV_STRICT_LOOPBACK; break;
        case OPT_JSON: json = 1; break;
        case OPT_VERIFY: case OPT_DECIDE: case OPT_LINT: case OPT_LIST:
            if (mode != 0 && mode != c)
                return tool_usage_error("--verify, --decide, --lint and --list exclude "
                                        "each other");
            mode = c;
            break;
        case OPT_CLIENT: client = optarg; break;
        case OPT_HOST: q.host = optarg; break;
        case OPT_IDENT: q.info = optarg; break;
        case OPT_SERVER: server = optarg; break;
        case OPT_AUTH: q.auth = 1; break;
        case OPT_SERVER_DIR:
            if (optarg[0] != '/')
                return tool_usage_error("--server-dir wants an absolute directory");
            o.server_dir = optarg;
            break;
        case OPT_TABLE_TYPE: o.table_type = optarg; break;
        case OPT_REG_VERSION:
            /* the exchange emitter's setting; it checks the value */
            snprintf(regver, sizeof regver, "reg-version=%.16s", optarg);
            copts[0] = regver;
            o.codec_opts = copts;
            break;
        case OPT_HELP: rc_help(); return 0;
        case OPT_VERSION: tool_version(); return 0;
        default: return tool_getopt_error(c, argv);
        }
    }
    argv += optind;
    argc -= optind;
    if (mode == OPT_LIST) {
        const struct lm_codec *const *cs;
        for (cs = lm_codecs(); *cs != NULL; cs++)
            printf("%-10s %s%s %s\n", (*cs)->name, ((*cs)->caps & LM_CODEC_PARSE) ? "r" : "-",
                   ((*cs)->caps & LM_CODEC_EMIT) ? "w" : "-", (*cs)->description);
        return 0;
    }
    if (argc < 1)
        return tool_usage_error("no input file");
    if ((o.flags & LM_CV_IF_CHANGED) && mode != 0)
        return tool_usage_error("--if-changed is for conversions; --verify, --decide and "
                                "--lint write nothing");
    if (mode == OPT_DECIDE) {
        q.sender = o.from;
        q.rcpt = o.to;
    } else if (fmt != NULL) {
        if (o.from != NULL && strcmp(o.from, fmt) != 0)
            return tool_usage_error("-F and --from name different formats");
        o.from = fmt;
    }
    tool_diags_init(&d);
    tool_progress_init(&d, quiet || json || mode == OPT_DECIDE);
    if (mode == OPT_DECIDE) {
        if (client == NULL)
            return tool_usage_error("--decide needs --client IP (or - to read addresses)");
        if (server != NULL && lm_ip_parse_server(&q, server) != 0)
            return tool_usage_error("--server wants the server's IPv4 or IPv6 address");
        rc = tool_exit_code(lm_decide_files((const char *const *)argv, (size_t)argc, fmt, &q,
                                            client, json, stdin, stdout, &d), &d);
    } else if (mode == OPT_VERIFY) {
        if (argc != 2)
            return tool_usage_error("--verify compares exactly two policies (files or "
                                    "directories)");
        lm_convert_report_init(&rep);
        rep.strict_loopback = (o.flags & LM_CV_STRICT_LOOPBACK) != 0;
        rc = lm_verify_files(argv[0], argv[1], o.from, &rep, &d);
        tool_progress_end();
        if (json)
            lm_convert_report_json(stdout, &rep);
        else if (rc == 0)
            printf("%s and %s decide alike (%zu classes of input, %zu combinations)\n",
                   argv[0], argv[1], rep.nclasses, rep.nprobes);
        else if (rc == LM_NOTFOUND)
            fprintf(stderr, "%s: %zu of %zu combinations decided differently (%zu wider)\n",
                    tool_progname(), rep.ndiffs, rep.nprobes, rep.nwider);
        lm_convert_report_fini(&rep);
        rc = tool_exit_code(rc == LM_NOTFOUND ? -1 : rc, &d);
    } else if (mode == OPT_LINT) {
        rc = tool_exit_code(lm_lint_files((const char *const *)argv, (size_t)argc, o.from,
                                          &nw, &d), &d);
        tool_progress_end();
        if (rc == 0 && nw > 0)
            rc = 1;     /* warnings: not an error, but worth a non-zero status */
    } else {
        if (o.to == NULL)
            return tool_usage_error("--to FMT is required (relayconv --list shows formats)");
        if (json && o.output == NULL && (lm_codec_find(o.to) == NULL ||
                                         lm_codec_noutputs(lm_codec_find(o.to)) == 1))
            return tool_usage_error("--json writes the report on standard output; give "
                                    "-o OUT for the converted policy");
        if (!json)
            o.flags |= LM_CV_LOSSES_COUNTED;    /* printed as they come; not kept */
        lm_convert_report_init(&rep);
        rc = lm_convert((const char *const *)argv, (size_t)argc, &o, stdout, &rep, &d);
        tool_progress_end();
        if (json)
            lm_convert_report_json(stdout, &rep);
        lm_convert_report_fini(&rep);
        rc = (o.flags & LM_CV_IF_CHANGED) ? tool_exit_changed(rc, &d) : tool_exit_code(rc, &d);
    }
    lm_diags_fini(&d);
    return rc;
}
