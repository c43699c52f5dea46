/*
 * worker.h — the worker's state (src/serve/worker.c: threads, the pipeline's source and
 * results, writing outcomes; src/serve/jobs.c: reading jobs from Redis into batches).
 */
#ifndef ODET_SERVE_WORKER_H
#define ODET_SERVE_WORKER_H

#include "serve/serve.h"

#include <pthread.h>

#define SV_MAX_ID 256
#define SV_MAX_PATH 4096
#define SV_IDLE_BLOCK_MS 100

typedef enum { JOB_RUN, JOB_DONE, JOB_DEAD, JOB_RETRY } job_state;

typedef struct sv_job {
	char entry[48];           /* stream entry id */
	char id[SV_MAX_ID + 1];
	const char *image;        /* into the batch's replies */
	size_t image_len;
	char *path;               /* owned */
	float score;              /* job's threshold (-1: none) */
	long long deliveries;
	job_state state;
	odet_status why;          /* JOB_DEAD, JOB_RETRY: the failure's status */
	sv_buf out;               /* result JSON */
	char reason[1024];        /* why it is dead-lettered or retried */
	struct sv_batch *batch;   /* the batch it belongs to */
} sv_job;

/* A connection and the context its errors go to (one per thread). */
typedef struct sv_link {
	odet_ctx *ctx;
	rd_conn *c;
	int64_t reconnects;
} sv_link;

/* Jobs read together, and the replies holding their image bytes (kept until the outcomes
 * are written: the pipeline reads the bytes of a job after it was pulled). */
typedef struct sv_batch {
	sv_job *jobs;
	int n;
	int m;                    /* jobs to run (JOB_RUN when fetched) */
	int cursor;               /* the next job to look at for the pipeline */
	int delivered;            /* of the m: results back */
	rd_reply **replies;
	int n_replies, cap_replies;
	rd_free_fn free_reply;    /* of the connection they came from (which may be gone) */
	struct sv_batch *next;    /* in a queue */
} sv_batch;

typedef struct sv_queue {
	sv_batch *head, *tail;
} sv_queue;

typedef struct sv_worker {
	odet_pipeline *p;
	odet_ctx *ctx;
	const odet_worker_opts *o;
	char consumer[128];
	rd_url url;
	sv_link main;             /* outcomes and acknowledgements (the writing thread's) */
	sv_link fetch;            /* claims, reads, metrics (the fetching thread's) */
	odet_model_info mi;
	int B;                    /* jobs per fetched batch */
	int engine_B;             /* the pipeline's batch */
	sv_batch *pool;
	int n_pool;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sv_queue free_q;          /* batches to fetch into */
	sv_queue ready;           /* fetched, jobs left to pull */
	sv_queue done;            /* every result back: outcomes to write */
	sv_job **ord;             /* pulled jobs by input index (modulo n_ord) */
	int64_t n_ord, n_pulled;
	int open_n;               /* inputs in the pipeline's open batch (since the last flush) */
	bool last_short;          /* the last fetch came back with fewer than B jobs */
	bool fetch_over;          /* the fetching thread stopped (stop, idle, failure) */
	bool run_over;            /* the pipeline returned: drain and leave */
	odet_status fetch_rc, write_rc;
	char claim_cursor[48];
	double next_claim;
	odet_worker_stats st;
	double t0;
	double first_job;         /* when the first job was read (0: none yet) */
	int64_t jobs_total;       /* batch fill: jobs run / batches */
} sv_worker;

/* jobs.c */
/* The replies hold the batch's image bytes: freed once its results are all back. */
void sv_free_replies(sv_batch *b);
void sv_batch_clear(sv_batch *b);
/* A dead connection: connect again (retry_s). */
odet_status sv_reconnect(sv_worker *w, sv_link *l);
/* Claim (when due) and read a batch on l; a connection lost on the way is reopened and the
 * batch left empty (what it had read stays pending, for a later claim). */
odet_status sv_fetch(sv_worker *w, sv_link *l, sv_batch *b);

#endif
