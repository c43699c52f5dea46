/* cli_engine.c — helpers shared by `odet inspect|build|run|bench` (cli_engine.h). */
#include "cli_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>


int cli_error(odet_ctx *ctx, odet_status s, const char *what)
{
	const char *msg = ctx ? odet_ctx_last_error(ctx) : "";
	size_t n = strlen(what);
	if (msg && !strncmp(msg, what, n) && msg[n] == ':') {
		fprintf(stderr, "odet: %s\n", msg);
		return odet_status_exit_code(s);
	}
	return cli_fail(ctx, s, what);
}

bool cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "odet %s: %s expects an integer in %ld..%ld, got '%s'\n", cmd, opt, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

bool cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		fprintf(stderr, "odet %s: %s expects a number in %g..%g, got '%s'\n", cmd, opt, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

bool cli_hw(const char *cmd, const char *s, int *h, int *w)
{
	char *end;
	long a = strtol(s, &end, 10), b;
	if (end != s && (*end == 'x' || *end == 'X')) {
		const char *t = end + 1;
		b = strtol(t, &end, 10);
		if (end != t && !*end && a > 0 && b > 0 && a <= 65536 && b <= 65536) {
			*h = (int)a;
			*w = (int)b;
			return true;
		}
	}
	fprintf(stderr, "odet %s: --input-size expects HxW (e.g. 640x640), got '%s'\n", cmd, s);
	return false;
}

const char *cli_arg(const char *cmd, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "odet %s: %s needs an argument\n", cmd, argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

/* The tuning cache the CLI uses: $XDG_CACHE_HOME/odet/tuning or ~/.cache/odet/tuning (folders
 * created); NULL: none. The library lets $ODET_TUNE_CACHE override it ("" or "none": no cache). */
static const char *cli_tune_cache(char *buf, size_t cap)
{
	const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	if (base && *base)
		n = snprintf(buf, cap, "%s/odet", base);
	else if (home && *home)
		n = snprintf(buf, cap, "%s/.cache/odet", home);
	else
		return NULL;
	if (n <= 0 || (size_t)n + 8 >= cap)
		return NULL;
	for (char *p = buf + 1; *p; p++) { /* mkdir -p */
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(buf, 0755);
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return NULL;
	strcat(buf, "/tuning");
	return buf;
}

odet_status cli_ctx(int n_threads, int verbose, odet_ctx **out)
{
	char tc[4096];
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = n_threads;
	o.log_level = verbose > 1 ? ODET_LOG_DEBUG : verbose ? ODET_LOG_INFO : ODET_LOG_WARN;
	o.tune_cache = cli_tune_cache(tc, sizeof tc);
	odet_status rc = odet_ctx_create(&o, out);
	if (rc)
		fprintf(stderr, "odet: cannot create a context: %s\n", odet_status_str(rc));
	return rc;
}

odet_status cli_pipeline_create(odet_ctx *ctx, odet_pipeline_opts *po, odet_pipeline **p)
{
	odet_status rc = odet_pipeline_create(ctx, po, p);
	if (rc == ODET_ERR_DEVICE && po->build.backend == ODET_BACKEND_AUTO) {
		fprintf(stderr, "odet: %s; using the CPU\n", odet_ctx_last_error(ctx));
		po->build.backend = ODET_BACKEND_CPU;
		rc = odet_pipeline_create(ctx, po, p);
	}
	return rc;
}

bool cli_is_plan(const char *path)
{
	char magic[8];
	size_t n = strlen(path);
	if (n >= 5 && !strcmp(path + n - 5, ".plan"))
		return true;
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool yes = fread(magic, 1, 8, f) == 8 && memcmp(magic, "ODETPLAN", 8) == 0;
	fclose(f);
	return yes;
}

odet_status cli_load_graph(odet_ctx *ctx, const char *path, odet_graph **out)
{
	return odet_graph_load(ctx, path, out);
}

void cli_print_graph(const odet_graph *g, FILE *f)
{
	odet_graph_print(g, f);
}

void cli_graph_cost(const odet_graph *g, int64_t *flops, int64_t *params)
{
	*flops = *params = 0;
	for (int i = 0; i < odet_graph_num_nodes(g); i++) {
		odet_node_info ni;
		if (odet_graph_node(g, i, &ni) == ODET_OK) {
			*flops += ni.flops;
			*params += ni.params;
		}
	}
}

const char *cli_shape_str(const odet_tensor *t, char *buf, size_t n)
{
	if (t->rank < 0) {
		snprintf(buf, n, "?");
		return buf;
	}
	size_t off = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < t->rank && off < n; i++) {
		if (t->dims[i] < 0)
			off += (size_t)snprintf(buf + off, n - off, "%s?", i ? "," : "");
		else
			off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "", (long long)t->dims[i]);
	}
	if (off < n)
		snprintf(buf + off, n - off, "]");
	return buf;
}

const char *cli_bytes(double b, char *buf, size_t n)
{
	if (b >= 1024.0 * 1024 * 1024)
		snprintf(buf, n, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else if (b >= 1024.0 * 1024)
		snprintf(buf, n, "%.2f MiB", b / (1024.0 * 1024));
	else if (b >= 1024.0)
		snprintf(buf, n, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, n, "%.0f B", b);
	return buf;
}

int64_t cli_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (int64_t)ru.ru_maxrss * 1024; /* Linux: kilobytes */
}

void cli_print_engine(const odet_engine *e, FILE *f)
{
	char a[32], b[32], s[160];
	odet_engine_desc d;
	if (odet_engine_describe(e, &d))
		return;
	fprintf(f, "backend:      %s (batch %d%s)\n", d.backend, d.batch, d.input_size_fixed ? ", input size fixed" : "");
	fprintf(f, "head:         %s\n",
		d.has_head ? (d.head ? d.head : "attached") : "none (raw network outputs)");
	fprintf(f, "memory plan:  arena %s (%zu bytes) vs naive sum %s (%zu bytes), %.1f%%; workspaces %s\n",
		cli_bytes((double)d.arena_bytes, a, sizeof a), d.arena_bytes,
		cli_bytes((double)d.naive_bytes, b, sizeof b), d.naive_bytes,
		d.naive_bytes ? 100.0 * (double)d.arena_bytes / (double)d.naive_bytes : 100.0,
		cli_bytes((double)d.workspace_bytes, (char[32]){0}, 32));
	for (int i = 0; i < odet_engine_num_inputs(e); i++) {
		const char *name;
		odet_tensor t;
		odet_engine_input_info(e, i, &name, &t);
		fprintf(f, "input %d:      %s %s %s\n", i, name, odet_dtype_name(t.dtype), cli_shape_str(&t, s, sizeof s));
	}
	for (int i = 0; i < odet_engine_num_outputs(e); i++) {
		const char *name;
		odet_tensor t;
		odet_engine_output_info(e, i, &name, &t);
		fprintf(f, "output %d:     %s %s %s\n", i, name, odet_dtype_name(t.dtype), cli_shape_str(&t, s, sizeof s));
	}
	/* what the backend timed (saved in the plan; a load runs these without timing) */
	if (d.n_tuned)
		fprintf(f, "tuned:        %d choices (plan section 'tuning')\n", d.n_tuned);
	for (int i = 0; i < d.n_tuned; i++) {
		const char *key, *val;
		if (odet_engine_tuned(e, i, &key, &val) == ODET_OK)
			fprintf(f, "  %s -> %s\n", key, val);
	}
}

void cli_engine_opts_init(cli_engine_opts *c)
{
	memset(c, 0, sizeof *c);
	c->backend = ODET_BACKEND_AUTO;
	c->precision = ODET_PRECISION_FP32;
}

int cli_build_opt(const char *cmd, int argc, char **argv, int *i, unsigned accept, odet_build_opts *o,
		  long *threads, int *verbose)
{
	const char *a = argv[*i], *v;
	long n;
	if ((accept & CLI_OPT_BATCH) && !strcmp(a, "--batch")) {
		if (!(v = cli_arg(cmd, argc, argv, i)) || !cli_int(cmd, a, v, 1, 65536, &n))
			return -1;
		o->batch = (int)n;
		return 1;
	}
	if ((accept & CLI_OPT_INPUT_SIZE) && !strcmp(a, "--input-size")) {
		if (!(v = cli_arg(cmd, argc, argv, i)) || !cli_hw(cmd, v, &o->input_h, &o->input_w))
			return -1;
		return 1;
	}
	if ((accept & CLI_OPT_INPUT_U8) && !strcmp(a, "--input-u8")) {
		o->input_u8 = 1;
		return 1;
	}
	if ((accept & CLI_OPT_HEAD) && !strcmp(a, "--head"))
		return (o->head = cli_arg(cmd, argc, argv, i)) ? 1 : -1;
	if ((accept & CLI_OPT_NO_HEAD) && !strcmp(a, "--no-head")) {
		o->no_head = 1;
		return 1;
	}
	if ((accept & CLI_OPT_THREADS) && !strcmp(a, "--threads")) {
		if (!(v = cli_arg(cmd, argc, argv, i)) || !cli_int(cmd, a, v, 0, 256, threads))
			return -1;
		return 1;
	}
	if ((accept & CLI_OPT_VERBOSE) && (!strcmp(a, "-v") || !strcmp(a, "--verbose") || !strcmp(a, "-vv"))) {
		*verbose = a[2] == 'v' ? 2 : *verbose + 1;
		return 1;
	}
	return 0;
}

int cli_engine_opt(const char *cmd, int argc, char **argv, int *i, cli_engine_opts *c)
{
	const char *a = argv[*i], *v;
	long n;
	if (!strcmp(a, "--backend")) {
		if (!(v = cli_arg(cmd, argc, argv, i)))
			return -1;
		c->backend_given = true;
		if (!strcmp(v, "cpu"))
			c->backend = ODET_BACKEND_CPU;
		else if (!strcmp(v, "cuda"))
			c->backend = ODET_BACKEND_CUDA;
		else if (!strcmp(v, "auto"))
			c->backend = ODET_BACKEND_AUTO;
		else {
			fprintf(stderr, "odet %s: --backend expects cpu, cuda or auto, got '%s'\n", cmd, v);
			return -1;
		}
		return 1;
	}
	if (!strcmp(a, "--precision")) {
		if (!(v = cli_arg(cmd, argc, argv, i)))
			return -1;
		if (!strcmp(v, "fp32"))
			c->precision = ODET_PRECISION_FP32;
		else if (!strcmp(v, "fp16"))
			c->precision = ODET_PRECISION_FP16;
		else if (!strcmp(v, "int8"))
			c->precision = ODET_PRECISION_INT8;
		else if (!strcmp(v, "fp8"))
			c->precision = ODET_PRECISION_FP8;
		else if (!strcmp(v, "bf16"))
			c->precision = ODET_PRECISION_BF16;
		else {
			fprintf(stderr, "odet %s: --precision expects fp32, fp16, bf16, int8 or fp8, got '%s'\n", cmd, v);
			return -1;
		}
		return 1;
	}
	if (!strcmp(a, "--calib"))
		return (c->calib = cli_arg(cmd, argc, argv, i)) ? 1 : -1;
	if (!strcmp(a, "--device")) {
		if (!(v = cli_arg(cmd, argc, argv, i)) || !cli_int(cmd, a, v, 0, 1023, &n))
			return -1;
		c->device = (int)n;
		return 1;
	}
	if (!strcmp(a, "--keep-fp32")) {
		int before = c->n_keep;
		while (*i + 1 < argc && argv[*i + 1][0] != '-') {
			if (c->n_keep == CLI_MAX_KEEP) {
				fprintf(stderr, "odet %s: --keep-fp32: at most %d nodes\n", cmd, CLI_MAX_KEEP);
				return -1;
			}
			c->keep[c->n_keep++] = argv[++*i];
		}
		if (c->n_keep == before) {
			fprintf(stderr, "odet %s: --keep-fp32 needs at least one node name\n", cmd);
			return -1;
		}
		return 1;
	}
	return 0;
}

int cli_common_opt(const char *cmd, int argc, char **argv, int *i, unsigned accept, cli_engine_opts *c,
		   odet_build_opts *o, long *threads, int *verbose)
{
	int r = cli_engine_opt(cmd, argc, argv, i, c);
	return r ? r : cli_build_opt(cmd, argc, argv, i, accept, o, threads, verbose);
}

void cli_engine_apply(const cli_engine_opts *c, odet_build_opts *o)
{
	o->backend = c->backend;
	o->precision = c->precision;
	o->device = c->device;
	o->keep_fp32 = c->n_keep ? c->keep : NULL;
	o->n_keep_fp32 = c->n_keep;
	o->calib_cache = c->calib;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}
