/* load.c — public loaders: pick the frontend by file type. */
#include "import/import.h"

#include <string.h>


odet_status odet_graph_load_tfjs(odet_ctx *ctx, const char *path, odet_graph **out)
{
	if (!ctx || !path || !out)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_graph_load_tfjs: NULL argument");
	return odet_import_tfjs_file(ctx, path, out);
}

odet_status odet_graph_load(odet_ctx *ctx, const char *path, odet_graph **out)
{
	if (!ctx || !path || !out)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_graph_load: NULL argument");
	size_t n = strlen(path);
	if (n >= 5 && !strcmp(path + n - 5, ".json"))
		return odet_import_tfjs_file(ctx, path, out);
	return odet_graph_load_onnx(ctx, path, out);
}
