/*
 * report_peer.h — the comparison columns of `odet report`: the PyTorch peer's images/s per batch
 * (bench/peers.py's peers.json: PyTorch fp16 eager, channels_last, network only) and the GPU's
 * peak TFLOP/s per precision as the user measured it.
 */
#ifndef ODET_CLI_REPORT_PEER_H
#define ODET_CLI_REPORT_PEER_H

#include <stdbool.h>
#include <stddef.h>

#define REPORT_PEER_MAX 32

typedef struct report_peer {
	char model[128];              /* the peers.json model whose rows were taken */
	int n;
	long batch[REPORT_PEER_MAX];
	double eager_ips[REPORT_PEER_MAX]; /* images/s of PyTorch fp16 eager at batch[i] */
} report_peer;

/* Reads the eager rows of `model` (NULL: the file's only model) from peers.json at path. 0 ok;
 * else 2 with the reason in err (not JSON, no rows, model missing or ambiguous: the models named). */
int report_peer_load(const char *path, const char *model, report_peer *p, char *err, size_t err_len);
/* images/s of the peer at this batch, 0 when the file has no figure for it. */
double report_peer_ips(const report_peer *p, long batch);

/* --peak-tflops "fp16=989,int8=1979,...": peak[k] for the precision named k (odet_precision's
 * value; 0 = not given). false on a malformed list, an unknown precision or a value <= 0. */
#define REPORT_PEAK_N 5
bool report_peak_parse(const char *s, double peak[REPORT_PEAK_N]);

#endif
