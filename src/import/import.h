/* import.h — frontends that turn model files into the IR. */
#ifndef ODET_IMPORT_H
#define ODET_IMPORT_H

#include "graph/ir.h"

/* ONNX (protobuf) from a file; external data resolved inside the model's folder only. */
odet_status odet_import_onnx_file(odet_ctx *ctx, const char *path, ir_graph **out);
/* ONNX from memory; base_dir for external data (NULL = external data refused). */
odet_status odet_import_onnx_buffer(odet_ctx *ctx, const void *data, size_t size,
				    const char *base_dir, const char *label, ir_graph **out);
/* ONNX TensorProto (the .pb files of ONNX's node tests) into a host tensor (data malloc'ed). */
odet_status odet_import_onnx_tensor(odet_ctx *ctx, const void *data, size_t size, odet_tensor *out,
				    char **name);
/* The same from a .pb file; messages are prefixed with the path. */
odet_status odet_import_onnx_tensor_file(odet_ctx *ctx, const char *path, odet_tensor *out,
					 char **name);

#endif
