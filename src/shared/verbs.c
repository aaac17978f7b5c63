/* SPDX-License-Identifier: MIT */
#include "verbs.h"

const Verb *verbs_find(const Program *p, const char *name) {
        for (const Verb *v = p->verbs; v->name; v++)
                if (streq(v->name, name))
                        return v;
        return NULL;
}

void verbs_help_verb(const Program *p, const Verb *v, FILE *f) {
        fprintf(f, "Usage: %s%s %s%s%s\n\n%s\n\nOptions:\n%s%s  -h, --help            show this help\n%s", p->name,
                p->usage_prefix, v->name, v->args[0] ? " " : "", v->args, v->help, strempty(v->options),
                p->shared_help, p->footer);
}

void verbs_help(const Program *p, FILE *f) {
        fprintf(f, "Usage: %s%s VERB [OPTIONS]\n\n%s\n\nVerbs:\n", p->name, p->usage_prefix, p->summary);
        for (const Verb *v = p->verbs; v->name; v++) {
                char left[64];
                snprintf(left, sizeof(left), "%s%s%s", v->name, v->args[0] ? " " : "", v->args);
                fprintf(f, "  %-*s %.*s\n", p->column, left, (int) strcspn(v->help, "\n"), v->help);
        }
        fprintf(f, "\nRun '%s VERB --help' for the options of a verb.\n%s", p->name, p->footer);
}

/* True when getopt_long() complained about val because its value is missing. */
static bool needs_value(const struct option *options, int val) {
        for (; val > 0 && options->name; options++)
                if (options->val == val)
                        return options->has_arg == required_argument;
        return false;
}

int verbs_parse_options(const Program *p, const Verb *v, int argc, char *argv[], const struct option *own,
                        option_handler_t on_option) {
        struct option options[16] = {};
        char shortopts[32];
        size_t n = 0;
        int c;

        for (const struct option *o = p->shared; o && o->name && n < ELEMENTSOF(options) - 2; o++)
                options[n++] = *o;
        options[n++] = (struct option) { "help", no_argument, NULL, 'h' };
        for (; own && own->name && n < ELEMENTSOF(options) - 1; own++)
                options[n++] = *own;
        snprintf(shortopts, sizeof(shortopts), "%sh", strempty(p->shared_short));

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
                const struct option *shared = NULL;

                for (const struct option *o = p->shared; o && o->name && !shared; o++)
                        if (o->val == c)
                                shared = o;
                if (c == 'h') {
                        verbs_help_verb(p, v, stdout);
                        return 0;
                }
                if (c == '?') {
                        if (needs_value(options, optopt))
                                fprintf(stderr, "%s %s: option '%s' needs a value\n", p->name, v->name, argv[optind - 1]);
                        else
                                fprintf(stderr, "%s %s: unknown option '%s'\n", p->name, v->name, argv[optind - 1]);
                        verbs_help_verb(p, v, stderr);
                        return -1;
                }
                if (shared ? p->on_shared(c, optarg) < 0 : !on_option || on_option(v, c, optarg) < 0) {
                        verbs_help_verb(p, v, stderr);
                        return -1;
                }
        }
        return optind;
}
