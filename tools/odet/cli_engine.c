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

int cli_hw(const char *cmd, const char *opt, char *s, void *build_opts)
{
	odet_build_opts *o = build_opts;
	char *end;
	long a = strtol(s, &end, 10), b;
	if (end != s && (*end == 'x' || *end == 'X')) {
		const char *t = end + 1;
		b = strtol(t, &end, 10);
		if (end != t && !*end && a > 0 && b > 0 && a <= 65536 && b <= 65536) {
			o->input_h = (int)a;
			o->input_w = (int)b;
			return 0;
		}
	}
	fprintf(stderr, "odet %s: %s expects HxW (e.g. 640x640), got '%s'\n", cmd, opt, s);
	return -1;
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

int cli_engine_ctx(const char *cmd, const odet_build_opts *o, long threads, int verbose, odet_ctx **out)
{
	*out = NULL;
	if (o->head && o->no_head) {
		fprintf(stderr, "odet %s: --head and --no-head exclude each other\n", cmd);
		return 2;
	}
	return cli_ctx((int)threads, verbose, out) ? 1 : 0;
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

const cli_choice cli_backends[] = {
	{"cpu", ODET_BACKEND_CPU}, {"cuda", ODET_BACKEND_CUDA}, {"auto", ODET_BACKEND_AUTO}, {NULL, 0}};
const cli_choice cli_precisions[] = {{"fp32", ODET_PRECISION_FP32}, {"fp16", ODET_PRECISION_FP16},
				     {"bf16", ODET_PRECISION_BF16}, {"int8", ODET_PRECISION_INT8},
				     {"fp8", ODET_PRECISION_FP8}, {NULL, 0}};

static int keep_add(const char *cmd, const char *opt, char *v, void *ptr)
{
	cli_engine_opts *c = ptr;
	if (c->n_keep == CLI_MAX_KEEP) {
		fprintf(stderr, "odet %s: %s: at most %d nodes\n", cmd, opt, CLI_MAX_KEEP);
		return -1;
	}
	c->keep[c->n_keep++] = v;
	return 0;
}

void cli_add_engine(cli_parser *p, cli_engine_opts *c)
{
	cli_add(p, (cli_opt){"--backend", CLI_ENUM, &c->backend, .choices = cli_backends, .given = &c->backend_given,
			     .arg = "B", .help = "cpu, cuda or auto (default: cuda when a GPU answers)"});
	cli_add(p, (cli_opt){"--precision", CLI_ENUM, &c->precision, .choices = cli_precisions, .arg = "P",
			     .help = "fp32 (default), fp16 (CUDA), bf16 (CPU with AVX512_BF16), int8 or fp8\n"
				     "(int8 and fp8 with --calib)"});
	cli_add(p, (cli_opt){"--calib", CLI_STR, &c->calib, .arg = "FILE",
			     .help = "calibration cache of the model (odet calibrate), for int8 and fp8"});
	cli_add(p, (cli_opt){"--keep-fp32", CLI_LIST, c, .fn = keep_add, .arg = "NODE...",
			     .help = "nodes kept in fp32 in an fp16 engine (int8: convolutions left unquantized)"});
	cli_add(p, (cli_opt){"--device", CLI_INT, &c->device, 0, 1023, .arg = "K", .help = "GPU index (default 0)"});
}

void cli_add_build(cli_parser *p, unsigned accept, odet_build_opts *o, long *threads, int *verbose)
{
	if (accept & CLI_OPT_BATCH)
		cli_add(p, (cli_opt){"--batch", CLI_INT, &o->batch, 1, 65536, .arg = "N",
				     .help = "value of the batch dimension (default 1)"});
	if (accept & CLI_OPT_INPUT_SIZE)
		cli_add(p, (cli_opt){"--input-size", CLI_FN, o, .fn = cli_hw, .arg = "HxW",
				     .help = "fix the image input's height and width"});
	if (accept & CLI_OPT_INPUT_U8)
		cli_add(p, (cli_opt){"--input-u8", CLI_FLAG, &o->input_u8,
				     .help = "the image input takes uint8 pixels (4x less to copy); the model's\n"
					     "normalization runs in the engine (needs a detection head)"});
	if (accept & CLI_OPT_HEAD)
		cli_add(p, (cli_opt){"--head", CLI_STR, &o->head, .arg = "SPEC",
				     .help = "head preset or config file (default: recognized from the outputs)"});
	if (accept & CLI_OPT_NO_HEAD)
		cli_add(p, (cli_opt){"--no-head", CLI_FLAG, &o->no_head,
				     .help = "never attach a head: the engine runs the raw network"});
	if (accept & CLI_OPT_THREADS)
		cli_add(p, (cli_opt){"--threads", CLI_LONG, threads, 0, 256, .arg = "N",
				     .help = "CPU threads (default: all cores)"});
	if (accept & CLI_OPT_VERBOSE) {
		cli_add(p, (cli_opt){"-v|--verbose", CLI_COUNT, verbose, .help = "log (twice, or -vv: debug)"});
		cli_add(p, (cli_opt){"-vv", CLI_FLAG, verbose, .set = 2});
	}
}

void cli_add_common(cli_parser *p, unsigned accept, cli_engine_opts *c, odet_build_opts *o, long *threads,
		    int *verbose)
{
	cli_add_engine(p, c);
	cli_add_build(p, accept, o, threads, verbose);
}

void cli_engine_apply(const cli_engine_opts *c, odet_build_opts *o)
{
	o->backend = (odet_backend_kind)c->backend;
	o->precision = (odet_precision)c->precision;
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
